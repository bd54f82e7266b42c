//! `pages [--runs N] [--clients N] [--stocks K] [--running R] [--devserver PATH]`: how fast the
//! dashboard answers on the devserver with a firm's year of data. The store file is filled first
//! (300 clients of two funds each under six representatives, 140 offerings two days apart whose
//! book-building runs over the nine months up to a week ahead, one first-day process per offering advising a third of the
//! clients), then the devserver binary is started on it, the R latest processes are started
//! through the staff API with a notice to every client (their messages sent through the built-in
//! fake Telegram, so Today has running processes and silent clients), and every dashboard page is
//! fetched N times with the operator's token: its shell (public, no data), and what loads with it
//! (`hx-trigger="load"`: the page's fragment under `/ui`, and what that loads in turn, a chart
//! each, say; `/ui/me` and `/ui/bot`, common to every shell, once). Prints min / median / max ms
//! per URL; the goal is under 100 ms each. Figures, not a test: nothing fails on a slow answer.

use crate::Error;
use chrono::{Days, NaiveDate};
use embedded_store::EmbeddedDynamo;
use shared::adapters::dynamodb::{DynamoStore, TABLE};
use shared::domain::client::{ChatBinding, Client, FundAccount, FundKind};
use shared::domain::ids::{ChatId, ProcessId};
use shared::domain::lockup::LockUp;
use shared::domain::money::{Price, Quantity, Won};
use shared::domain::phase::bid::{AdviceLine, BidAdvice};
use shared::domain::phase::notice::{NoticeAdvice, NoticeText};
use shared::domain::phase::{Advice, FundLines};
use shared::domain::process::{Process, ProcessKind, ReminderPolicy, Round};
use shared::domain::staff::{Role, Staff};
use shared::domain::stock::{Market, NewStock, PriceBand, Schedule, ScheduleDates, Stock};
use shared::domain::text::Label;
use shared::domain::tracker::Tracker;
use shared::ports::clock::{Clock, SystemClock};
use shared::ports::store::{ClientStore, ProcessStore, StaffStore, StockStore, TrackerStore};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const USAGE: &str =
    "usage: bench pages [--runs N] [--clients N] [--stocks K] [--running R] [--devserver PATH] [--keep DIR]";
/// The devserver's table name (infra/devserver/src/main.rs).
const TABLE_NAME: &str = "ipo-advisory";
const ADMIN_TOKEN: &str = "bench-pages-admin";
/// The notice process's id.
const NOTICE: &str = "bench-notice";
/// The representatives, each an operator; the first one's token fetches the pages.
const REPRESENTATIVES: [(&str, &str); 6] = [
    ("rep-kim", "김대리"),
    ("rep-lee", "이과장"),
    ("rep-park", "박차장"),
    ("rep-choi", "최대리"),
    ("rep-jung", "정과장"),
    ("rep-kang", "강부장"),
];

struct Options {
    runs: usize,
    clients: usize,
    stocks: usize,
    running: usize,
    devserver: PathBuf,
    keep: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Options, Error> {
    let sibling = std::env::current_exe()?.with_file_name("devserver");
    let mut options = Options { runs: 20, clients: 300, stocks: 140, running: 5, devserver: sibling, keep: None };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = || -> Result<usize, Error> {
            let n: usize = value.parse().map_err(|_| format!("{flag}: {value:?} is not a number"))?;
            if n == 0 { Err(format!("{flag} must be at least 1").into()) } else { Ok(n) }
        };
        match flag.as_str() {
            "--runs" => options.runs = number()?,
            "--clients" => options.clients = number()?,
            "--stocks" => options.stocks = number()?,
            "--running" => options.running = number()?,
            "--devserver" => options.devserver = PathBuf::from(value),
            "--keep" => options.keep = Some(PathBuf::from(value)),
            other => return Err(format!("unknown option {other}\n{USAGE}").into()),
        }
    }
    if options.running > options.stocks {
        return Err("--running cannot exceed --stocks".into());
    }
    Ok(options)
}

pub async fn run(args: &[String]) -> Result<(), Error> {
    let options = parse(args)?;
    if !options.devserver.is_file() {
        return Err(format!("no devserver at {} (cargo build -p devserver)", options.devserver.display()).into());
    }
    let scratch = std::env::temp_dir().join(format!("ipo-advisory-bench-pages-{}", std::process::id()));
    let data = options.keep.clone().unwrap_or_else(|| scratch.clone());
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let result = measure(&options, &data).await;
    if options.keep.is_none() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    result
}

async fn measure(options: &Options, data: &Path) -> Result<(), Error> {
    let started = Instant::now();
    let processes = fill(data, options).await?;
    eprintln!(
        "pages: stored {} clients, {} offerings, {} processes with {} trackers in {:.1} s",
        options.clients,
        options.stocks,
        processes.len(),
        processes.len() * advised_per_process(options.clients),
        started.elapsed().as_secs_f64()
    );

    let server = Devserver::start(&options.devserver, data).await?;
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(120)).build()?;
    let api = |path: &str| format!("{}{path}", server.base);

    // The latest processes start now: their advice goes out, and their clients are silent.
    let started = Instant::now();
    let notice: ProcessId = NOTICE.parse()?;
    let running: Vec<&ProcessId> = processes.iter().rev().take(options.running).collect();
    for id in running.iter().copied().chain([&notice]) {
        let answer = http.post(api(&format!("/api/v1/processes/{id}/start"))).bearer_auth(ADMIN_TOKEN).send().await?;
        if !answer.status().is_success() {
            return Err(format!("starting {id}: {} {}", answer.status(), answer.text().await?).into());
        }
    }
    eprintln!("pages: started {} processes and a notice in {:.1} s", running.len(), started.elapsed().as_secs_f64());

    let operator = server.operator_token.clone().ok_or("the devserver printed no operator token")?;
    let ids = Ids {
        process: running.first().map(|id| id.to_string()).unwrap_or_default(),
        stock: format!("s{:03}", options.stocks - 1),
        client: client_id(0),
        notice: NOTICE.to_owned(),
    };
    println!(
        "pages clients={} stocks={} processes={} running={} runs={} (ms: min median max, operator's token)",
        options.clients,
        options.stocks,
        processes.len() + 1,
        running.len() + 1,
        options.runs,
    );
    let mut report = Report::default();
    // What every shell loads besides its page (who is signed in, the emergency stop's state),
    // measured once.
    let mut seen: Vec<String> = Vec::new();
    for shell in shared::web::pages::SHELLS {
        let Some(path) = ids.fill(shell) else {
            println!("  {shell:<44} (no id to fill in: not measured)");
            continue;
        };
        // The shell (public, no data), then what it loads (`hx-trigger="load"`): the page's
        // fragment with its data, and what that fragment loads in turn (a chart each, say).
        let fragment = format!("/ui{path}");
        let mut queue = vec![(path, None::<&str>, 0usize)];
        while let Some((url, token, depth)) = queue.pop() {
            let (timed, body) = report.measure(&http, &api(&url), &url, token, depth, options.runs).await?;
            if !timed.status.is_success() {
                eprintln!("pages: {url} answered {}", timed.status);
            }
            // Reversed onto the stack: measured in the page's order.
            for load in load_urls(&body).into_iter().rev() {
                let common_to_shells = depth == 0 && load != fragment;
                if common_to_shells {
                    if seen.contains(&load) {
                        continue;
                    }
                    seen.push(load.clone());
                }
                queue.push((load, Some(operator.as_str()), depth + 1));
            }
        }
    }
    let (worst, over) = (report.worst, report.over);
    if let Some((median, url)) = worst {
        let verdict = if over == 0 { "every median under 100 ms".to_owned() } else { format!("{over} over 100 ms") };
        println!("pages slowest median {median:.1} ms ({url}): {verdict}");
    }
    server.stop().await;
    Ok(())
}

/// The devserver binary on the filled data folder, stopped by its process id.
struct Devserver {
    child: Child,
    base: String,
    /// The operator's dashboard token, as the banner prints it (when it does).
    operator_token: Option<String>,
}

impl Devserver {
    async fn start(binary: &Path, data: &Path) -> Result<Devserver, Error> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut child = Command::new(binary)
            .args(["--port", &port.to_string(), "--admin-token", ADMIN_TOKEN, "--data-dir"])
            .arg(data)
            .env_remove("TELEGRAM_BOT_TOKEN")
            .env_remove("DEVSERVER_ADMIN_TOKEN")
            .env("RUST_LOG", "warn,dynoxide=error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("the devserver: no standard output")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let ready = tokio::time::timeout(Duration::from_secs(120), async {
            while let Some(line) = lines.next_line().await? {
                let done = line.contains("Ctrl-C stops");
                banner.push(line);
                if done {
                    return Ok::<bool, std::io::Error>(true);
                }
            }
            Ok(false)
        })
        .await;
        if !matches!(ready, Ok(Ok(true))) {
            return Err(format!("the devserver did not start: {banner:?}").into());
        }
        // Whatever else it prints is read and dropped, so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let operator_token = operator_token(&banner);
        Ok(Devserver { child, base: format!("http://127.0.0.1:{port}"), operator_token })
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The operator's token from the banner (`operator  Bearer <token>`), if it prints one.
fn operator_token(banner: &[String]) -> Option<String> {
    banner.iter().find_map(|line| {
        let mut words = line.split_whitespace().skip_while(|w| w.trim_end_matches(':') != "operator").skip(1);
        let token = words.next().filter(|w| *w != "Bearer").or_else(|| words.next())?;
        Some(token.to_owned())
    })
}

/// The figures so far.
#[derive(Default)]
struct Report {
    worst: Option<(f64, String)>,
    over: usize,
}

impl Report {
    /// Times `url` with `token` (the admin's when the operator's is refused: the audit log is the
    /// admin's, said so), prints its line, and returns the timing and the body.
    async fn measure(
        &mut self,
        http: &reqwest::Client,
        full: &str,
        url: &str,
        token: Option<&str>,
        depth: usize,
        runs: usize,
    ) -> Result<(Timed, String), Error> {
        let mut timed = time(http, full, token, runs).await?;
        let mut who = "";
        if timed.status == reqwest::StatusCode::FORBIDDEN {
            timed = time(http, full, Some(ADMIN_TOKEN), runs).await?;
            who = " (admin; operator 403)";
        }
        let [min, median, max] = timed.ms;
        let shown = format!("{}{url}", "  ".repeat(depth + 1));
        println!(
            "{shown:<46} {min:>7.1} {median:>7.1} {max:>7.1}   {} {} bytes{who}",
            timed.status.as_u16(),
            timed.body.len()
        );
        if median >= 100.0 {
            self.over += 1;
        }
        if self.worst.as_ref().is_none_or(|(m, _)| median > *m) {
            self.worst = Some((median, url.to_owned()));
        }
        let body = std::mem::take(&mut timed.body);
        Ok((timed, body))
    }
}

/// The URLs a page fetches once it is there: `hx-get` of the elements with `hx-trigger="load"`.
fn load_urls(html: &str) -> Vec<String> {
    html.split('<')
        .filter(|tag| tag.contains("hx-trigger=\"load"))
        .filter_map(|tag| {
            let (_, rest) = tag.split_once("hx-get=\"")?;
            let (url, _) = rest.split_once('"')?;
            Some(url.replace("&amp;", "&"))
        })
        .collect()
}

/// The ids the pages with one in their path are measured with.
struct Ids {
    process: String,
    stock: String,
    client: String,
    notice: String,
}

impl Ids {
    /// The shell path with its `{id}` filled in; `None` for a page this bench has no id for.
    fn fill(&self, shell: &str) -> Option<String> {
        let Some(prefix) = shell.strip_suffix("/{id}") else { return Some(shell.to_owned()) };
        let id = match prefix {
            "/processes" => &self.process,
            "/stocks" => &self.stock,
            "/clients" => &self.client,
            "/notices" => &self.notice,
            _ => return None,
        };
        Some(format!("{prefix}/{id}"))
    }
}

struct Timed {
    status: reqwest::StatusCode,
    /// The first answer's body.
    body: String,
    /// Min, median, max.
    ms: [f64; 3],
}

/// GETs `url` once untimed (a first load warms what any page warms once), then `runs` times.
async fn time(http: &reqwest::Client, url: &str, token: Option<&str>, runs: usize) -> Result<Timed, Error> {
    let get = || {
        let request = http.get(url);
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    };
    let first = get().send().await?;
    let status = first.status();
    let body = first.text().await?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let at = Instant::now();
        let answer = get().send().await?;
        let _ = answer.bytes().await?;
        times.push(at.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let ms = [times[0], times[times.len() / 2], times[times.len() - 1]];
    Ok(Timed { status, body, ms })
}

fn advised_per_process(clients: usize) -> usize {
    clients.div_ceil(3)
}

/// Fills the devserver's store file, and returns the processes in kickoff order.
async fn fill(data: &Path, options: &Options) -> Result<Vec<ProcessId>, Error> {
    let engine = EmbeddedDynamo::on_file(&data.join("ipo-advisory.sqlite"), 0).await?;
    TABLE.create(&engine.client(), TABLE_NAME).await?;
    let store = DynamoStore::new(engine.client(), TABLE_NAME);
    let result = match fill_store(&store, options).await {
        Ok(processes) => fill_notice(&store, options.clients).await.map(|_| processes),
        Err(e) => Err(e),
    };
    engine.shutdown().await;
    result
}

async fn fill_store(store: &DynamoStore, options: &Options) -> Result<Vec<ProcessId>, Error> {
    let admin = Staff {
        id: "admin".parse()?,
        name: Label::new("관리자")?,
        role: Role::Admin,
        telegram_user_id: None,
        active: true,
    };
    store.create_staff(&admin).await?;
    for (id, name) in REPRESENTATIVES {
        let staff = Staff {
            id: id.parse()?,
            name: Label::new(name)?,
            role: Role::Operator,
            telegram_user_id: None,
            active: true,
        };
        store.create_staff(&staff).await?;
    }
    for i in 0..options.clients {
        let funds = vec![
            FundAccount {
                id: "ipo".parse()?,
                name: Label::new("공모주")?,
                kind: FundKind::IpoFund,
                aum: Won::new(50_000_000_000 + (i as u64 % 7) * 10_000_000_000),
            },
            FundAccount {
                id: "hy".parse()?,
                name: Label::new("하이일드")?,
                kind: FundKind::HighYield,
                aum: Won::new(30_000_000_000),
            },
        ];
        let rep = REPRESENTATIVES[i % REPRESENTATIVES.len()].0;
        let client =
            Client::new(client_id(i).parse()?, Label::new(format!("(가상)고객{i:04}자산운용"))?, rep.parse()?, funds)?;
        let stored = store.create_client(&client).await?;
        let binding = ChatBinding {
            chat_id: ChatId(-1_004_000_000_000 - i as i64),
            title: Some(format!("(가상)고객{i:04} x 자문")),
            active: true,
        };
        store.link_chat(&client.id, &binding, stored.version).await?;
    }

    let now = SystemClock.now();
    let today = now.date_naive();
    let advised = advised_per_process(options.clients);
    let mut processes = Vec::with_capacity(options.stocks);
    for k in 0..options.stocks {
        // Two days apart, the latest book-building starting a week from now.
        let back = (options.stocks - 1 - k) as u64 * 2;
        let start = today.checked_add_days(Days::new(7)).and_then(|d| d.checked_sub_days(Days::new(back)));
        let stock = stock(k, start.ok_or("a date out of range")?)?;
        store.create_stock(&stock).await?;
        let process = Process::new(
            format!("bench-{k:03}-first-day").parse()?,
            Some(stock.id.clone()),
            ProcessKind::Participation { round: Round::FirstDay },
            now,
            ReminderPolicy::default(),
            now,
        );
        let created = store.create_process(&process).await?;
        let price = stock.band().high().get();
        let trackers: Vec<Tracker> = (0..advised)
            .map(|j| -> Result<Tracker, Error> {
                let client = (k * advised + j) % options.clients;
                let line = |fund: &str, quantity: u64| -> Result<AdviceLine, Error> {
                    Ok(AdviceLine {
                        fund_id: fund.parse()?,
                        price: Price::new(price)?,
                        quantity: Quantity::new(quantity)?,
                        lockup: LockUp::Months1,
                        comment: String::new(),
                    })
                };
                let lines = FundLines::new(vec![line("ipo", 300_000)?, line("hy", 100_000)?])?;
                Ok(Tracker::new(process.id.clone(), client_id(client).parse()?, Advice::Bid(BidAdvice { lines }), now))
            })
            .collect::<Result<_, _>>()?;
        store.save_draft_trackers(&process.id, created.version, &trackers).await?;
        processes.push(process.id);
    }
    Ok(processes)
}

/// A notice to every client, asking for ✅: started with the running processes.
async fn fill_notice(store: &DynamoStore, clients: usize) -> Result<ProcessId, Error> {
    let now = SystemClock.now();
    let id: ProcessId = NOTICE.parse()?;
    let process = Process::new(id.clone(), None, ProcessKind::Notice, now, ReminderPolicy::default(), now);
    let created = store.create_process(&process).await?;
    let notice = NoticeAdvice {
        title: Label::new("(가상)연말 운영 안내")?,
        text: NoticeText::new("12월 31일은 휴장일입니다. 수요예측 일정을 확인해 주세요.")?,
        acknowledge: true,
    };
    let trackers: Vec<Tracker> = (0..clients)
        .map(|i| -> Result<Tracker, Error> {
            Ok(Tracker::new(id.clone(), client_id(i).parse()?, Advice::Notice(notice.clone()), now))
        })
        .collect::<Result<_, _>>()?;
    store.save_draft_trackers(&id, created.version, &trackers).await?;
    Ok(id)
}

fn client_id(i: usize) -> String {
    format!("c{i:04}")
}

/// Offering `k`, its book-building starting on `start`.
fn stock(k: usize, start: NaiveDate) -> Result<Stock, Error> {
    let day = |n: u64| start.checked_add_days(Days::new(n)).ok_or("a date out of range");
    let low = 10_000 + (k as u64 % 20) * 1_000;
    let schedule = Schedule::new(ScheduleDates {
        filing: start.checked_sub_days(Days::new(25)).ok_or("a date out of range")?,
        bookbuilding_start: start,
        bookbuilding_end: day(4)?,
        price_fixing: day(6)?,
        subscription_start: day(9)?,
        subscription_end: day(10)?,
        payment: day(12)?,
        listing: day(17)?,
    })
    .map_err(|e| format!("offering {k}: {e:?}"))?;
    Ok(Stock::new(NewStock {
        id: format!("s{k:03}").parse()?,
        name: Label::new(format!("(가상)종목{k:03}"))?,
        code: None,
        market: if k.is_multiple_of(3) { Market::Kospi } else { Market::Kosdaq },
        lead_manager: Label::new(["(가상)미래증권", "(가상)한국투자", "(가상)대신증권"][k % 3])?,
        band: PriceBand::new(Price::new(low)?, Price::new(low + 2_000)?)?,
        schedule,
        spac: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_token_is_read_off_the_banner() {
        let banner =
            ["  login     Authorization: Bearer adm".to_owned(), "            operator  Bearer 0f3a".to_owned()];
        assert_eq!(operator_token(&banner), Some("0f3a".to_owned()));
        assert_eq!(operator_token(&["  login  Authorization: Bearer x".to_owned()]), None);
    }

    #[test]
    fn what_a_page_loads_is_read_off_its_html() {
        let html = r#"<div id="me" hx-get="/ui/me" hx-trigger="load"></div><a hx-get="/ui/today" href="/today">x</a>
            <section class="card" hx-get="/ui/charts/kickoff?process=p&amp;x=1" hx-trigger="load"></section>"#;
        assert_eq!(load_urls(html), ["/ui/me", "/ui/charts/kickoff?process=p&x=1"]);
    }

    #[test]
    fn offerings_have_valid_schedules_two_days_apart() {
        let start = NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date");
        let a = stock(0, start).expect("an offering");
        let b = stock(1, start.checked_add_days(Days::new(2)).expect("a date")).expect("an offering");
        assert_ne!(a.id, b.id);
        assert_eq!(a.schedule().dates().bookbuilding_start, start);
    }
}
