//! `--demo`: the demo data of the domain brief, loaded once (a restart finds it there).

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

fn created<T>(result: Result<T, StoreError>) -> Result<(), StoreError> {
    match result {
        Ok(_) | Err(StoreError::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn load(app: &App, link_fake_groups: bool) -> Result<(), Error> {
    let store = &app.store;
    // The admin, and the representative the demo clients name; on the fake Telegram, the latter is
    // the person who writes in the staff group at /dev/telegram (staff commands need a staff record).
    let rep_account = link_fake_groups.then_some(TelegramUserId(crate::fake_chats::STAFF_USER));
    for (id, name, role, account) in
        [("admin", "관리자", Role::Admin, None), ("rep-kim", "김대리", Role::Operator, rep_account)]
    {
        let staff = Staff { id: id.parse()?, name: Label::new(name)?, role, telegram_user_id: account, active: true };
        created(store.create_staff(&staff).await)?;
    }
    for stock in [shared::demo::hanbit(), shared::demo::nuri_energy(), shared::demo::hangyeol_spac()] {
        created(store.create_stock(&stock).await)?;
    }
    for (client, chat) in shared::demo::clients().into_iter().zip(DEMO_CHATS) {
        created(store.create_client(&client).await)?;
        let stored = store.get_client(&client.id).await?;
        if link_fake_groups && stored.value.chat.is_none() {
            let binding =
                ChatBinding { chat_id: ChatId(chat), title: Some(format!("{} x 자문", client.name)), active: true };
            store.link_chat(&client.id, &binding, stored.version).await?;
        }
    }
    // One first-day participation process for 한빛로보틱스, in draft, with the demo advice.
    let id: ProcessId = "demo-hanbit-first-day".parse()?;
    if store.get_process(&id).await.is_ok() {
        return Ok(());
    }
    let stock = shared::demo::hanbit();
    let kind = ProcessKind::Participation { round: Round::FirstDay };
    let kickoff = kind.default_kickoff(stock.schedule()).ok_or("no default kickoff")?;
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
    Ok(())
}
