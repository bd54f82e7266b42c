//! Pacing sends to Telegram's limits with the generic cell rate algorithm: each limit is one number
//! (the "theoretical arrival time"), so many senders can share it through one conditional write.

use serde::{Deserialize, Serialize};

/// A rate: on average one event per `interval_ms`, with up to `burst` events back to back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub interval_ms: u64,
    pub burst: u32,
}

impl Rate {
    /// How far ahead of its schedule a burst may run.
    pub fn tolerance_ms(self) -> u64 {
        u64::from(self.burst.saturating_sub(1)) * self.interval_ms
    }
}

/// One limit a send counts against: a field of a shared pace record (the bot's, a chat's) holding
/// the limit's theoretical arrival time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub record: String,
    pub field: &'static str,
    pub rate: Rate,
    /// Every send counts against it (the bot's), not only this chat's.
    pub shared: bool,
}

/// How far ahead a reservation may reach, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bounds {
    /// Nothing is reserved unless the first slot falls by then: a fan-out books the shared
    /// limit only a little ahead.
    pub first_by: Option<u64>,
    /// A send whose own limits (its chat's) hold it past this is left out: reserving it now would
    /// hold the shared limit until then, for every other chat.
    pub own_by: Option<u64>,
}

/// Where a limit's theoretical arrival time lives.
pub type LimitKey = (String, &'static str);

/// What a reservation requires a field to hold when it is written, so that concurrent senders
/// cannot both take the same slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Absent, or at most this: any such value gives the same new one, so the sender need not
    /// know it exactly (the common case, no read).
    AtMost(u64),
    /// Exactly this: a burst in progress, whose next value depends on it.
    Equals(u64),
}

/// One field's conditional change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldWrite {
    pub field: &'static str,
    pub expect: Expect,
    pub new: u64,
}

/// Slots for a run of sends and the writes that reserve them, by record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacePlan {
    /// Each send's slot, in order; `None` for a send that cannot go by the latest time asked for
    /// (nothing is reserved for it).
    pub slots: Vec<Option<u64>>,
    /// The earliest slot of a send left out.
    pub next: Option<u64>,
    pub writes: std::collections::BTreeMap<String, Vec<FieldWrite>>,
}

/// Plans slots for `sends` (each a list of the limits it counts against) with the generic cell
/// rate algorithm, from the last values known of the limits (`known`; missing ones are taken as
/// idle): each send gets the earliest time at or after `not_before` that all its limits allow,
/// and every limit it counts against moves on, within `bounds`. Planning from a value that turns
/// out stale is safe: the writes' expectations then fail, and the sender plans again from fresh
/// ones.
pub fn plan(
    sends: &[Vec<Limit>],
    known: &std::collections::HashMap<LimitKey, u64>,
    not_before: u64,
    bounds: Bounds,
) -> PacePlan {
    use std::collections::HashMap;
    // Per field: what the write expects (fixed at its first use) and its value so far.
    let mut fields: HashMap<LimitKey, (Expect, Option<u64>)> = HashMap::new();
    let mut order: Vec<LimitKey> = Vec::new();
    let ready = |send: &Vec<Limit>| {
        send.iter()
            .map(|l| known.get(&(l.record.clone(), l.field)).map_or(0, |t| t.saturating_sub(l.rate.tolerance_ms())))
            .max()
            .unwrap_or(0)
    };
    // Sends whose own limits free up first go first: a busy chat must not hold the shared limit
    // idle for the sends behind it (a single arrival time cannot be filled in afterwards).
    let mut by_readiness: Vec<usize> = (0..sends.len()).collect();
    by_readiness.sort_by_key(|i| ready(&sends[*i]));
    let mut slots = vec![None; sends.len()];
    let mut next: Option<u64> = None;
    for i in by_readiness {
        let send = &sends[i];
        let allows = |limit: &Limit| {
            let key = (limit.record.clone(), limit.field);
            let tat = fields.get(&key).map_or_else(|| known.get(&key).copied(), |(_, tat)| *tat);
            tat.unwrap_or(0).saturating_sub(limit.rate.tolerance_ms())
        };
        let own = send.iter().filter(|l| !l.shared).map(allows).fold(not_before, u64::max);
        if bounds.own_by.is_some_and(|by| own > by) {
            next = Some(next.map_or(own, |n| n.min(own)));
            continue;
        }
        let slot = send.iter().filter(|l| l.shared).map(allows).fold(own, u64::max);
        for limit in send {
            let key = (limit.record.clone(), limit.field);
            let entry = fields.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                let last = known.get(&key).copied();
                let expect = match last {
                    Some(last) if last > slot => Expect::Equals(last),
                    _ => Expect::AtMost(slot),
                };
                (expect, last)
            });
            entry.1 = Some(entry.1.unwrap_or(0).max(slot) + limit.rate.interval_ms);
        }
        slots[i] = Some(slot);
    }
    let first = slots.iter().flatten().min().copied();
    if let (Some(first), Some(by)) = (first, bounds.first_by)
        && first > by
    {
        let next = next.map_or(first, |n| n.min(first));
        return PacePlan { slots: vec![None; sends.len()], next: Some(next), writes: Default::default() };
    }
    let mut writes: std::collections::BTreeMap<String, Vec<FieldWrite>> = std::collections::BTreeMap::new();
    for key in order {
        if let Some((expect, Some(new))) = fields.get(&key) {
            writes.entry(key.0.clone()).or_default().push(FieldWrite { field: key.1, expect: *expect, new: *new });
        }
    }
    PacePlan { slots, next, writes }
}

/// Telegram's limits, with margins so that a paced sender never meets a 429 of its own making:
/// about 30 messages a second per bot, one a second per chat, 20 a minute per group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelegramLimits {
    pub per_bot: Rate,
    pub per_chat: Rate,
    pub per_group_minute: Rate,
}

impl TelegramLimits {
    /// What one message to `chat` counts against: the bot's rate, the chat's, and for a group its
    /// per-minute rate (kept with the chat's, so that a send writes two records, not three).
    pub fn for_chat(&self, chat: i64) -> Vec<Limit> {
        let record = format!("chat:{chat}");
        let mut limits = vec![
            Limit { record: "bot".into(), field: "Tat", rate: self.per_bot, shared: true },
            Limit { record: record.clone(), field: "Tat", rate: self.per_chat, shared: false },
        ];
        if chat < 0 {
            limits.push(Limit { record, field: "GroupTat", rate: self.per_group_minute, shared: false });
        }
        limits
    }
}

impl Default for TelegramLimits {
    fn default() -> Self {
        TelegramLimits {
            // 37 ms apart: 30 slots span 1.11 s, so even a send that leaves ~110 ms after its slot
            // (a busy event loop, a slow connection) cannot put 31 into one second at Telegram.
            per_bot: Rate { interval_ms: 37, burst: 1 },
            per_chat: Rate { interval_ms: 1_050, burst: 1 },
            // 3 back to back, then one per 3.6 s: at most 19 in any minute.
            per_group_minute: Rate { interval_ms: 3_600, burst: 3 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The most events in any window of `window_ms` among sorted send times.
    fn max_in_window(times: &[u64], window_ms: u64) -> usize {
        times
            .iter()
            .enumerate()
            .map(|(i, t)| times[i..].iter().take_while(|u| **u < t + window_ms).count())
            .max()
            .unwrap_or(0)
    }

    fn limit(record: &str, rate: Rate) -> Limit {
        Limit { record: record.into(), field: "Tat", rate, shared: record == "b" }
    }

    /// `n` sends planned one at a time, each from what the previous one wrote.
    fn schedule(rate: Rate, n: usize) -> Vec<u64> {
        let mut known = HashMap::new();
        (0..n)
            .map(|_| {
                let plan = plan(&[vec![limit("r", rate)]], &known, 0, Bounds::default());
                known.insert(("r".to_owned(), "Tat"), plan.writes["r"][0].new);
                plan.slots[0].unwrap()
            })
            .collect()
    }

    #[test]
    fn spacing_without_burst() {
        let times = schedule(Rate { interval_ms: 37, burst: 1 }, 5);
        assert_eq!(times, vec![0, 37, 74, 111, 148]);
    }

    #[test]
    fn bursts_then_steady() {
        let times = schedule(Rate { interval_ms: 3_600, burst: 3 }, 5);
        assert_eq!(times, vec![0, 0, 0, 3_600, 7_200]);
    }

    #[test]
    fn a_batch_plans_as_sends_one_by_one_would() {
        let rate = Rate { interval_ms: 3_600, burst: 3 };
        let batch = plan(&vec![vec![limit("r", rate)]; 5], &HashMap::new(), 0, Bounds::default());
        assert_eq!(batch.slots, schedule(rate, 5).into_iter().map(Some).collect::<Vec<_>>());
        assert_eq!(batch.writes["r"], vec![FieldWrite { field: "Tat", expect: Expect::AtMost(0), new: 18_000 }]);
    }

    #[test]
    fn several_limits_agree_on_one_time() {
        let chat = Rate { interval_ms: 1_050, burst: 1 };
        let bot = Rate { interval_ms: 37, burst: 1 };
        // The bot is busy until 5,000: the chat's next send is then, and its record says so.
        let known = HashMap::from([(("c".to_owned(), "Tat"), 1_000), (("b".to_owned(), "Tat"), 5_000)]);
        let first = plan(&[vec![limit("c", chat), limit("b", bot)]], &known, 0, Bounds::default());
        assert_eq!(first.slots, vec![Some(5_000)]);
        assert_eq!(first.writes["c"][0], FieldWrite { field: "Tat", expect: Expect::AtMost(5_000), new: 6_050 });
        assert_eq!(first.writes["b"][0], FieldWrite { field: "Tat", expect: Expect::AtMost(5_000), new: 5_037 });
        let known = HashMap::from([(("c".to_owned(), "Tat"), 6_050), (("b".to_owned(), "Tat"), 5_037)]);
        let next = plan(&[vec![limit("c", chat), limit("b", bot)]], &known, 0, Bounds::default());
        assert_eq!(next.slots, vec![Some(6_050)], "one second after the previous send, not 37 ms");
    }

    #[test]
    fn a_busy_chat_does_not_hold_the_bot_for_the_sends_behind_it() {
        let (bot, chat) = (Rate { interval_ms: 37, burst: 1 }, Rate { interval_ms: 1_050, burst: 1 });
        let known = HashMap::from([(("busy".to_owned(), "Tat"), 1_000)]);
        let sends = vec![vec![limit("b", bot), limit("busy", chat)], vec![limit("b", bot), limit("free", chat)]];
        let p = plan(&sends, &known, 0, Bounds::default());
        assert_eq!(p.slots, vec![Some(1_000), Some(0)], "the free chat's message goes first, in the busy one's wait");
        // Bounded, the busy chat's message is left out and holds the bot for nobody.
        let p = plan(&sends, &known, 0, Bounds { own_by: Some(500), first_by: None });
        assert_eq!((p.slots, p.next), (vec![None, Some(0)], Some(1_000)));
        assert_eq!(p.writes["b"][0].new, 37, "the bot is held for the free chat's message only");
        // The bot's own backlog does not leave a message out; only `first_by` holds a batch back.
        let busy_bot = HashMap::from([(("b".to_owned(), "Tat"), 800)]);
        let p = plan(&sends[1..], &busy_bot, 0, Bounds { own_by: Some(500), first_by: None });
        assert_eq!(p.slots, vec![Some(800)]);
        let p = plan(&sends[1..], &busy_bot, 0, Bounds { own_by: Some(500), first_by: Some(500) });
        assert_eq!((p.slots, p.next, p.writes.is_empty()), (vec![None], Some(800), true));
    }

    #[test]
    fn a_burst_in_progress_is_expected_exactly() {
        let rate = Rate { interval_ms: 3_600, burst: 3 };
        // Two sends of a burst went at 0: the next may go at once too, but only if nobody else
        // took that place meanwhile, so the write expects the value it planned from.
        let known = HashMap::from([(("g".to_owned(), "Tat"), 7_200)]);
        let third = plan(&[vec![limit("g", rate)]], &known, 0, Bounds::default());
        assert_eq!(third.slots, vec![Some(0)]);
        assert_eq!(third.writes["g"][0].expect, Expect::Equals(7_200));
        assert_eq!(third.writes["g"][0].new, 10_800);
    }

    #[test]
    fn an_idle_limit_does_not_bank_more_than_its_burst() {
        let rate = Rate { interval_ms: 1_000, burst: 2 };
        let mut known = HashMap::from([(("r".to_owned(), "Tat"), 5_000)]);
        let mut slots = Vec::new();
        for _ in 0..3 {
            let p = plan(&[vec![limit("r", rate)]], &known, 100_000, Bounds::default());
            known.insert(("r".to_owned(), "Tat"), p.writes["r"][0].new);
            slots.push(p.slots[0].unwrap());
        }
        assert_eq!(slots, vec![100_000, 100_000, 101_000]);
    }

    #[test]
    fn a_group_message_counts_against_the_bot_its_chat_and_its_minute() {
        let limits = TelegramLimits::default();
        let group: Vec<(String, &str)> = limits.for_chat(-100).into_iter().map(|l| (l.record, l.field)).collect();
        assert_eq!(group, vec![("bot".into(), "Tat"), ("chat:-100".into(), "Tat"), ("chat:-100".into(), "GroupTat")]);
        assert_eq!(limits.for_chat(42).len(), 2, "a private chat has no per-minute limit");
    }

    #[test]
    fn default_limits_stay_inside_telegrams_even_with_late_sends() {
        let limits = TelegramLimits::default();
        assert!(max_in_window(&schedule(limits.per_bot, 300), 1_000) <= 30);
        // Every other send 100 ms late: still at most 30 in any second.
        let jittered: Vec<u64> =
            schedule(limits.per_bot, 300).iter().enumerate().map(|(i, t)| t + 100 * (i as u64 % 2)).collect();
        let mut sorted = jittered.clone();
        sorted.sort_unstable();
        assert!(max_in_window(&sorted, 1_000) <= 30);
        assert!(max_in_window(&schedule(limits.per_chat, 50), 1_000) <= 1);
        assert!(max_in_window(&schedule(limits.per_group_minute, 100), 60_000) <= 20);
    }
}
