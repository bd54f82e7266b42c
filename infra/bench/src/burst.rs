//! `burst --clients N --stocks K`: the book-building morning. K first-day processes kick off at
//! once to the same N clients; every client presses ✅ on each advice and answers its prompt at
//! seeded random moments within `--window` seconds (never sooner than 1.5 s after the message it
//! acts on arrived: a person reads it first).
//! Prints one line:
//!
//! `burst clients=N stocks=K seconds=S floor=F ratio=R prompt_p50_ms=… prompt_p99_ms=…
//! ddb_per_update=… ddb_per_send=… cancelled_pct=… violations=V lost=L`
//!
//! - S: from the kickoffs to the last receipt; F: the fewest seconds Telegram's limits allow for
//!   it, the later of every message at 30 a second and the last answer's planned moment; R = S/F.
//! - prompt latency: from a ✅ pushed to Telegram to the bid prompt Telegram accepted.
//! - ddb_per_update: table requests of the webhook function per update; ddb_per_send: of the
//!   kickoffs per advice sent. Counted at the store client, the SDK's retries included. The local
//!   scheduler's job writes (EventBridge Scheduler calls in AWS) are counted apart.
//! - cancelled_pct: writes the table refused (a condition that did not hold, a cancelled
//!   transaction) in percent of all writes, over every function.

use crate::host::{Function, STAFF_CHAT, Stats, World};
use crate::{Error, Options, seed};
use serde_json::{Value, json};
use shared::domain::ids::ProcessId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::fake_telegram::{FakeTelegram, SentMessage};
use tokio::sync::oneshot;

/// What the bot sends a client about one process, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Advice,
    Prompt,
    Receipt,
}

type Key = (i64, usize, Kind);

enum Slot {
    Arrived(Box<SentMessage>),
    Awaited(oneshot::Sender<SentMessage>),
}

/// The bot's messages to clients, matched to whoever waits for them.
#[derive(Default)]
struct Arrivals {
    slots: Mutex<HashMap<Key, Slot>>,
}

impl Arrivals {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Slot>> {
        self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn arrived(&self, key: Key, message: SentMessage) {
        let mut slots = self.lock();
        match slots.remove(&key) {
            Some(Slot::Awaited(waiter)) => {
                let _ = waiter.send(message);
            }
            // A second message of the same kind (an error reply, say) is not what anyone waits for.
            Some(Slot::Arrived(first)) => {
                slots.insert(key, Slot::Arrived(first));
            }
            None => {
                slots.insert(key, Slot::Arrived(Box::new(message)));
            }
        }
    }

    async fn wait(&self, key: Key) -> Option<SentMessage> {
        let receiver = {
            let mut slots = self.lock();
            match slots.remove(&key) {
                Some(Slot::Arrived(message)) => {
                    slots.insert(key, Slot::Arrived(message.clone()));
                    return Some(*message);
                }
                Some(Slot::Awaited(_)) | None => {
                    let (sender, receiver) = oneshot::channel();
                    slots.insert(key, Slot::Awaited(sender));
                    receiver
                }
            }
        };
        receiver.await.ok()
    }
}

/// Reads the fake's sends as they happen and files each client message by chat, process and kind.
async fn watch_sends(fake: Arc<FakeTelegram>, processes: Vec<ProcessId>, arrivals: Arc<Arrivals>) {
    let index: HashMap<String, usize> = processes.iter().enumerate().map(|(i, p)| (p.to_string(), i)).collect();
    let mut advice_of: HashMap<(i64, i64), usize> = HashMap::new();
    let mut seen = 0;
    loop {
        fake.wait_for(Duration::from_secs(1), |f| f.sent_count() > seen).await;
        for message in fake.sent_since(seen) {
            seen += 1;
            let button = message
                .reply_markup
                .as_ref()
                .and_then(|m| m.pointer("/inline_keyboard/0/0/callback_data"))
                .and_then(Value::as_str)
                .and_then(|d| d.split_once(':'));
            let filed = match button {
                Some(("ack", p)) => index.get(p).map(|p| {
                    advice_of.insert((message.chat_id, message.message_id), *p);
                    (*p, Kind::Advice)
                }),
                Some(("edit", p)) => index.get(p).map(|p| (*p, Kind::Receipt)),
                _ => message
                    .reply_to_message_id
                    .and_then(|to| advice_of.get(&(message.chat_id, to)))
                    .map(|p| (*p, Kind::Prompt)),
            };
            if let Some((process, kind)) = filed {
                arrivals.arrived((message.chat_id, process, kind), message);
            }
        }
    }
}

/// splitmix64: a seeded, reproducible sequence of moments.
struct Moments(u64);

impl Moments {
    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as f64 / u64::MAX as f64
    }
}

/// When one client acts on one process, from the kickoff.
#[derive(Debug, Clone, Copy)]
struct Plan {
    client: usize,
    process: usize,
    ack: Duration,
    answer: Duration,
}

fn plans(options: &Options) -> Vec<Plan> {
    let window = options.window_secs as f64;
    let mut moments = Moments(options.seed);
    let mut plans = Vec::with_capacity(options.clients * options.stocks);
    for client in 0..options.clients {
        for process in 0..options.stocks {
            let ack = moments.next_unit() * window * 0.75;
            let answer = ack + 1.0 + moments.next_unit() * (window - ack - 1.0).max(0.0);
            plans.push(Plan {
                client,
                process,
                ack: Duration::from_secs_f64(ack),
                answer: Duration::from_secs_f64(answer.min(window)),
            });
        }
    }
    plans
}

/// What one client's acts on one process came to.
struct Outcome {
    prompt_latency: Option<Duration>,
    /// Messages it received of the three it should.
    received: usize,
    last: Option<Instant>,
}

/// The least time a person takes to read a message before acting on it.
const READING: Duration = Duration::from_millis(1_500);

static NEXT_MESSAGE: AtomicI64 = AtomicI64::new(900_000_000);

fn user(client: usize) -> Value {
    json!({ "id": 6_100_000_000i64 + client as i64, "is_bot": false, "first_name": "매니저" })
}

fn group(chat: i64) -> Value {
    json!({ "id": chat, "title": "고객사 x 자문", "type": "supergroup" })
}

fn bot_message(fake: &FakeTelegram, message: &SentMessage) -> Value {
    json!({
        "message_id": message.message_id,
        "from": { "id": fake.bot_id(), "is_bot": true, "first_name": "Bench Bot" },
        "chat": group(message.chat_id),
        "date": 1_773_622_800,
        "text": message.plain_text,
    })
}

async fn act(plan: Plan, started: Instant, price: u64, fake: Arc<FakeTelegram>, arrivals: Arc<Arrivals>) -> Outcome {
    let chat = seed::chat(plan.client).0;
    let mut outcome = Outcome { prompt_latency: None, received: 0, last: None };
    tokio::time::sleep_until((started + plan.ack).into()).await;
    let Some(advice) = arrivals.wait((chat, plan.process, Kind::Advice)).await else { return outcome };
    outcome.received += 1;
    tokio::time::sleep_until((advice.at + READING).into()).await;
    fake.push_update(json!({
        "callback_query": {
            "id": format!("burst-{}-{}", plan.client, plan.process),
            "from": user(plan.client),
            "chat_instance": "-1",
            "message": bot_message(&fake, &advice),
            "data": format!("ack:{}", advice_process(&advice)),
        }
    }));
    let pressed = Instant::now();
    let Some(prompt) = arrivals.wait((chat, plan.process, Kind::Prompt)).await else { return outcome };
    outcome.received += 1;
    outcome.prompt_latency = Some(prompt.at.saturating_duration_since(pressed));
    tokio::time::sleep_until((started + plan.answer).max(prompt.at + READING).into()).await;
    let text = format!("{} / {} / {}", thousands(price), thousands(seed::QUANTITY), seed::LOCKUP);
    fake.push_update(json!({
        "message": {
            "message_id": NEXT_MESSAGE.fetch_add(1, Ordering::Relaxed),
            "from": user(plan.client),
            "chat": group(chat),
            "date": 1_773_622_860,
            "text": text,
            "reply_to_message": bot_message(&fake, &prompt),
        }
    }));
    let Some(receipt) = arrivals.wait((chat, plan.process, Kind::Receipt)).await else { return outcome };
    outcome.received += 1;
    outcome.last = Some(receipt.at);
    outcome
}

fn advice_process(advice: &SentMessage) -> String {
    advice
        .reply_markup
        .as_ref()
        .and_then(|m| m.pointer("/inline_keyboard/0/0/callback_data"))
        .and_then(Value::as_str)
        .and_then(|d| d.strip_prefix("ack:"))
        .unwrap_or_default()
        .to_owned()
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> u128 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_millis()
}

/// How much the CPU quotas held the functions back, for the detail line.
pub fn throttling(functions: &[&Function]) -> String {
    let parts: Vec<String> = functions
        .iter()
        .filter_map(|f| f.throttled().map(|(periods, secs)| format!("{} {periods}×/{secs:.1}s", f.name)))
        .collect();
    if parts.is_empty() { String::new() } else { format!("; throttled {}", parts.join(", ")) }
}

pub async fn run(options: &Options) -> Result<(), Error> {
    let (n, k) = (options.clients, options.stocks);
    let world = World::start().await?;
    seed::clients(&world.store, n).await?;
    let advised = seed::processes(&world.store, n, k).await?;
    let memory = options.lambda_memory_mb;
    let kickoffs = world.function("scheduler", false, memory).await?;
    let jobs = world.function("jobs", true, memory).await?;
    let webhook = world.function("webhook", false, memory).await?;
    world.route_updates_to(&webhook).await?;

    let fake = Arc::new(world.fake);
    let arrivals = Arc::new(Arrivals::default());
    let processes: Vec<ProcessId> = advised.iter().map(|a| a.process.clone()).collect();
    let watcher = tokio::spawn(watch_sends(fake.clone(), processes, arrivals.clone()));
    let plans = plans(options);
    let floor_by_answers = plans.iter().map(|p| p.answer).max().unwrap_or_default().as_secs_f64();
    let expected = 3 * n * k;
    let deadline = Duration::from_secs_f64(floor_by_answers.max(expected as f64 / 30.0) * 3.0 + 60.0);

    let started = Instant::now();
    let kickoffs = Arc::new(kickoffs);
    let starts: Vec<_> = advised
        .iter()
        .map(|a| {
            let (kickoffs, process) = (kickoffs.clone(), a.process.clone());
            tokio::spawn(async move { kickoffs.start(&process).await })
        })
        .collect();
    let acts: Vec<_> = plans
        .iter()
        .map(|plan| {
            let act = act(*plan, started, advised[plan.process].price, fake.clone(), arrivals.clone());
            tokio::spawn(tokio::time::timeout(deadline, act))
        })
        .collect();
    for start in starts {
        match start.await? {
            Ok(report) if report.error.is_none() && report.failed.is_empty() => {}
            Ok(report) => eprintln!("bench: a kickoff reported {:?} {:?}", report.error, report.failed.first()),
            Err(e) => eprintln!("bench: a kickoff failed: {e}"),
        }
    }
    let mut latencies = Vec::with_capacity(plans.len());
    let (mut received, mut last) = (0, started);
    for act in acts {
        if let Ok(outcome) = act.await? {
            latencies.extend(outcome.prompt_latency);
            received += outcome.received;
            last = last.max(outcome.last.unwrap_or(started));
        }
    }
    watcher.abort();
    let seconds = last.saturating_duration_since(started).as_secs_f64();
    latencies.sort_unstable();

    let staff_sends = fake.sent(STAFF_CHAT).len();
    let floor = ((expected + staff_sends) as f64 / 30.0).max(floor_by_answers);
    let kickoffs = Arc::into_inner(kickoffs).ok_or("the kickoff function is still in use")?;
    let (sent_stats, hook_stats, job_stats) = (kickoffs.stats().await?, webhook.stats().await?, jobs.stats().await?);
    let updates = 2 * n * k;
    let all = [&sent_stats, &hook_stats, &job_stats];
    let writes: u64 = all.iter().map(|s| s.store_writes).sum();
    let refused: u64 = all.iter().map(|s| s.store_refused).sum();
    println!(
        "burst clients={n} stocks={k} seconds={seconds:.1} floor={floor:.1} ratio={:.3} prompt_p50_ms={} \
         prompt_p99_ms={} ddb_per_update={:.1} ddb_per_send={:.1} cancelled_pct={:.0} violations={} lost={}",
        seconds / floor,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        hook_stats.store_total() as f64 / updates as f64,
        sent_stats.store_total() as f64 / (n * k) as f64,
        100.0 * refused as f64 / writes.max(1) as f64,
        fake.violations(),
        expected - received,
    );
    let detail = |name: &str, stats: &Stats, per: usize| {
        eprintln!(
            "  {name}: {:.2} table requests each {:?}, refused {} of {} writes, scheduler {:.2} each",
            stats.store_total() as f64 / per as f64,
            stats.store,
            stats.store_refused,
            stats.store_writes,
            stats.scheduler as f64 / per as f64,
        );
    };
    eprintln!("burst detail (staff group: {staff_sends} messages){}:", throttling(&[&kickoffs, &webhook, &jobs]));
    detail("per advice sent (kickoffs)", &sent_stats, n * k);
    detail("per update (webhook)", &hook_stats, updates);
    detail("per update (due jobs)", &job_stats, updates);
    let mut per_five = Vec::new();
    for sent in fake.all_sent() {
        let bucket = (sent.at.saturating_duration_since(started).as_secs() / 5) as usize;
        if per_five.len() <= bucket {
            per_five.resize(bucket + 1, 0);
        }
        per_five[bucket] += 1;
    }
    eprintln!("  bot sends per 5 s (Telegram allows 150): {per_five:?}");
    for violation in fake.violation_log().iter().take(20) {
        eprintln!(
            "  violation: {:?} limit, chat {}, {:.3} s in",
            violation.kind,
            violation.chat_id,
            violation.at.saturating_duration_since(started).as_secs_f64()
        );
    }
    for function in [kickoffs, webhook, jobs] {
        function.stop().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_fall_within_the_window_in_order() {
        let options = Options { clients: 50, stocks: 2, window_secs: 60, seed: 7, lambda_memory_mb: None };
        let plans = plans(&options);
        assert_eq!(plans.len(), 100);
        assert!(plans.iter().all(|p| p.ack < p.answer && p.answer <= Duration::from_secs(60)));
        let again = super::plans(&options);
        assert!(plans.iter().zip(&again).all(|(a, b)| a.ack == b.ack), "the seed decides");
    }

    #[test]
    fn prices_read_as_clients_write_them() {
        assert_eq!(thousands(300_000), "300,000");
        assert_eq!(thousands(2_000), "2,000");
        assert_eq!(thousands(15), "15");
    }

    #[test]
    fn percentiles_take_the_rank_above() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!((percentile(&ms, 50.0), percentile(&ms, 99.0)), (50, 99));
    }
}
