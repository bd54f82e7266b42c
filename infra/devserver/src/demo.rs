//! `--demo`: the demo data of the domain brief, loaded once (a restart finds it there and keeps
//! it: nothing is overwritten and the advice is not sent again).

use shared::app::App;
use shared::domain::client::ChatBinding;
use shared::domain::ids::{ChatId, ProcessId, TelegramUserId};
use shared::domain::process::{Process, ProcessKind, ReminderPolicy, Round};
use shared::domain::staff::{Role, Staff};
use shared::domain::text::Label;
use shared::domain::tracker::Tracker;
use shared::ports::store::StoreError;

type Error = Box<dyn std::error::Error>;

/// The groups the fake Telegram uses for the demo clients, in `shared::demo::clients()` order.
pub const DEMO_CHATS: [i64; 5] =
    [-1_001_500_000_001, -1_001_500_000_002, -1_001_500_000_003, -1_001_500_000_004, -1_001_500_000_005];

/// What `--demo` did with the data directory it found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    /// Records written now (staff, stocks, clients, the process).
    pub created: usize,
    /// Records found already there and left as they were.
    pub kept: usize,
    /// Whether the demo process was created and its advice sent now.
    pub sent: bool,
}

impl Loaded {
    fn count<T>(&mut self, result: Result<T, StoreError>) -> Result<(), StoreError> {
        match result {
            Ok(_) => self.created += 1,
            Err(StoreError::AlreadyExists { .. }) => self.kept += 1,
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// The `demo` line of the startup banner (and of the `/dev/telegram` page).
    pub fn banner(&self, data_dir: &std::path::Path) -> String {
        let dir = data_dir.display();
        match (self.created, self.kept) {
            (_, 0) => {
                "loaded now: five clients, three IPOs, (가상)한빛로보틱스's first-day advice, sent on start, and the finished (가상)세솔소재 with its result".into()
            }
            (0, kept) => format!(
                "existing data kept, nothing loaded or sent: the {kept} demo records are already in {dir} \
                 (with whatever was done since); remove {dir} for a fresh demo"
            ),
            (created, kept) => format!(
                "existing data kept ({kept} demo records already in {dir}); added the {created} missing{}",
                if self.sent { ", and sent (가상)한빛로보틱스's first-day advice" } else { "" }
            ),
        }
    }
}

/// The title the fake Telegram gives a demo client's group.
pub fn group_title(client_name: &str) -> String {
    format!("{client_name} x 자문")
}

pub async fn load(app: &App, link_fake_groups: bool) -> Result<Loaded, Error> {
    let mut loaded = Loaded::default();
    let store = &app.store;
    // The admin, and the representative the demo clients name; on the fake Telegram, the latter is
    // the person who writes in the staff group at /dev/telegram (staff commands need a staff record).
    let rep_account = link_fake_groups.then_some(TelegramUserId(crate::fake_chats::STAFF_USER));
    for (id, name, role, account) in
        [("admin", "관리자", Role::Admin, None), ("rep-kim", "김대리", Role::Operator, rep_account)]
    {
        let staff = Staff { id: id.parse()?, name: Label::new(name)?, role, telegram_user_id: account, active: true };
        loaded.count(store.create_staff(&staff).await)?;
    }
    for stock in
        [shared::demo::hanbit(), shared::demo::nuri_energy(), shared::demo::hangyeol_spac(), shared::demo::sesol()]
    {
        loaded.count(store.create_stock(&stock).await)?;
    }
    for (client, chat) in shared::demo::clients().into_iter().zip(DEMO_CHATS) {
        loaded.count(store.create_client(&client).await)?;
        let stored = store.get_client(&client.id).await?;
        if link_fake_groups && stored.value.chat.is_none() {
            let binding =
                ChatBinding { chat_id: ChatId(chat), title: Some(group_title(client.name.as_str())), active: true };
            store.link_chat(&client.id, &binding, stored.version).await?;
        }
    }
    // (가상)세솔소재, finished: its four phases confirmed, so `GET /stocks/sesol/result` has a result.
    // Each process is written with its trackers, already settled; one found is left as it is.
    for (process, trackers) in shared::demo::sesol_finished(app.clock.now()) {
        match store.create_process(&process).await {
            Ok(_) => {
                for tracker in &trackers {
                    store.create_tracker(tracker).await?;
                }
                loaded.created += 1;
            }
            Err(StoreError::AlreadyExists { .. }) => loaded.kept += 1,
            Err(e) => return Err(e.into()),
        }
    }
    // One first-day participation process for 한빛로보틱스, in draft, with the demo advice.
    let id: ProcessId = "demo-hanbit-first-day".parse()?;
    if store.get_process(&id).await.is_ok() {
        loaded.kept += 1;
        return Ok(loaded);
    }
    let stock = shared::demo::hanbit();
    let kind = ProcessKind::Participation { round: Round::FirstDay };
    let kickoff = kind
        .default_kickoff(stock.schedule(), shared::domain::calendar::KrxCalendar::builtin())
        .ok_or("no default kickoff")?;
    let process =
        Process::new(id.clone(), Some(stock.id.clone()), kind, kickoff, ReminderPolicy::default(), app.clock.now());
    let saved = store.create_process(&process).await?;
    let now = app.clock.now();
    let trackers: Vec<Tracker> = shared::demo::hanbit_first_day_advice()
        .into_iter()
        .map(|(client, advice)| Tracker::new(id.clone(), client, advice, now))
        .collect();
    store.save_draft_trackers(&id, saved.version, &trackers).await?;
    // Its kickoff day is in the past: sent now, as staff would start it, so the groups fill up.
    app.start_now(&id).await?;
    loaded.created += 1;
    loaded.sent = true;
    Ok(loaded)
}
