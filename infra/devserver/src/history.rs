//! What the built-in fake Telegram's chats showed, kept next to the store (`dev-telegram.json` in
//! the data directory) so a restart finds them as Telegram would: every chat's messages with the
//! bot's edits applied, the people's messages and button presses, and the last update id given out,
//! so updates after a restart continue the sequence (the webhook takes a reused id for a duplicate
//! and ignores it).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use testkit::fake_telegram::FakeTelegram;

/// The file's name in the data directory.
pub const FILE_NAME: &str = "dev-telegram.json";
const VERSION: u32 = 1;
/// Past this a chat forgets its oldest entries: the file is rewritten on every change.
pub const MAX_ENTRIES_PER_CHAT: usize = 2_000;

#[derive(Debug, Serialize, Deserialize)]
struct History {
    version: u32,
    /// The last update id given out; the next update gets the one after.
    last_update_id: i64,
    /// In the order first seen.
    chats: Vec<ChatLog>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatLog {
    pub id: i64,
    pub title: String,
    /// In the order recorded; [`ChatLog::in_time_order`] sorts them.
    pub entries: Vec<Entry>,
}

impl ChatLog {
    /// The entries by the time they reached the chat (recording order among equals).
    pub fn in_time_order(&self) -> Vec<&Entry> {
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by_key(|e| e.at_ms);
        entries
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Unix milliseconds when it reached the chat.
    pub at_ms: i64,
    #[serde(flatten)]
    pub kind: EntryKind,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryKind {
    /// The bot's message as the chat shows it now (Bot API `Message`, edits applied).
    Bot {
        message: Value,
        #[serde(default)]
        deleted: bool,
    },
    /// A person's message written on the page, and the update that carried it.
    Person { message: Value, update_id: i64 },
    /// A button pressed on the page.
    Press { message_id: i64, button: String, who: String, update_id: i64 },
}

/// The history behind a lock, and the file it is saved to.
pub struct Kept {
    path: PathBuf,
    history: Mutex<History>,
    /// Held while a snapshot is taken and written, so snapshots reach the file in order.
    writing: Mutex<()>,
    /// How many of this run's fake's sends are in the history.
    seen_sent: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Kept {
    /// Reads `dir/dev-telegram.json`, or starts an empty history. Without the file but with a store
    /// that already holds data (a data directory from before the file existed), update ids start at
    /// the current Unix time: ids from 1 could be ones the store has seen.
    pub fn open(dir: &Path, store_existed: bool) -> Result<Kept, String> {
        let path = dir.join(FILE_NAME);
        let history = match std::fs::read(&path) {
            Ok(bytes) => {
                let history: History = serde_json::from_slice(&bytes).map_err(|e| {
                    format!("{}: not a fake Telegram history ({e}); move it away to start a fresh one", path.display())
                })?;
                if history.version != VERSION {
                    return Err(format!(
                        "{}: history version {} (this devserver reads {VERSION}); move it away to start a fresh one",
                        path.display(),
                        history.version
                    ));
                }
                history
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let last_update_id = if store_existed { now_ms() / 1000 } else { 0 };
                History { version: VERSION, last_update_id, chats: Vec::new() }
            }
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        };
        Ok(Kept { path, history: Mutex::new(history), writing: Mutex::new(()), seen_sent: AtomicUsize::new(0) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many messages and button presses the history holds, over all chats (for the banner).
    pub fn message_count(&self) -> usize {
        lock(&self.history).chats.iter().map(|c| c.entries.len()).sum()
    }

    pub fn last_update_id(&self) -> i64 {
        lock(&self.history).last_update_id
    }

    /// Tells a freshly started fake every chat and message of the history, so that replies to them,
    /// the bot's edits of them and presses under them work, and new messages get new ids.
    pub fn restore(&self, fake: &FakeTelegram, chat_json: &dyn Fn(i64, &str) -> Value) {
        let history = lock(&self.history);
        for chat in &history.chats {
            fake.remember_chat(chat_json(chat.id, &chat.title));
            for entry in &chat.entries {
                match &entry.kind {
                    // A deleted one too: its id stays taken.
                    EntryKind::Bot { message, .. } => fake.remember_message(message, true),
                    EntryKind::Person { message, .. } => fake.remember_message(message, false),
                    EntryKind::Press { .. } => {}
                }
            }
        }
    }

    /// The next update id, taken (saved with the next [`Kept::save`]).
    pub fn take_update_id(&self) -> i64 {
        let mut history = lock(&self.history);
        history.last_update_id += 1;
        history.last_update_id
    }

    /// The chat's log, if it has one.
    pub fn chat(&self, id: i64) -> Option<ChatLog> {
        lock(&self.history).chats.iter().find(|c| c.id == id).cloned()
    }

    /// The chats with a log, in the order first seen: (id, title).
    pub fn chats(&self) -> Vec<(i64, String)> {
        lock(&self.history).chats.iter().map(|c| (c.id, c.title.clone())).collect()
    }

    /// Records an entry in a chat, creating its log with `title` when it has none.
    pub fn add(&self, chat: i64, title: impl FnOnce() -> String, entry: Entry) {
        let mut history = lock(&self.history);
        chat_mut(&mut history, chat, title).push(entry);
    }

    /// Brings the history up to what the fake shows now: the bot's new messages, and the current
    /// state of every message of the bot (edited, buttons removed, deleted). True when anything
    /// changed.
    pub fn sync(&self, fake: &FakeTelegram, title: &dyn Fn(i64) -> String) -> bool {
        let mut history = lock(&self.history);
        let mut changed = false;
        let new = fake.sent_since(self.seen_sent.load(Ordering::Relaxed));
        self.seen_sent.fetch_add(new.len(), Ordering::Relaxed);
        let now = now_ms();
        for sent in new {
            let current = fake.message(sent.chat_id, sent.message_id);
            let deleted = current.is_none();
            let message = current.unwrap_or_else(
                || json!({ "message_id": sent.message_id, "chat": { "id": sent.chat_id }, "text": sent.plain_text }),
            );
            let elapsed = i64::try_from(sent.at.elapsed().as_millis()).unwrap_or(0);
            let entry = Entry { at_ms: now - elapsed, kind: EntryKind::Bot { message, deleted } };
            chat_mut(&mut history, sent.chat_id, || title(sent.chat_id)).push(entry);
            changed = true;
        }
        for chat in &mut history.chats {
            for entry in &mut chat.entries {
                let EntryKind::Bot { message, deleted } = &mut entry.kind else { continue };
                let Some(id) = message["message_id"].as_i64().filter(|_| !*deleted) else { continue };
                match fake.message(chat.id, id) {
                    Some(current) if current != *message => {
                        *message = current;
                        changed = true;
                    }
                    Some(_) => {}
                    None => {
                        *deleted = true;
                        changed = true;
                    }
                }
            }
        }
        changed
    }

    /// Writes the history to its file (a new file renamed over the old one: never half written).
    pub fn save(&self) -> Result<(), String> {
        let _writing = lock(&self.writing);
        let bytes = {
            let mut history = lock(&self.history);
            for chat in &mut history.chats {
                let over = chat.entries.len().saturating_sub(MAX_ENTRIES_PER_CHAT);
                chat.entries.drain(..over);
            }
            serde_json::to_vec(&*history).map_err(|e| format!("serialising the fake Telegram's history: {e}"))?
        };
        let partial = self.path.with_extension("json.partial");
        std::fs::write(&partial, bytes).map_err(|e| format!("writing {}: {e}", partial.display()))?;
        std::fs::rename(&partial, &self.path).map_err(|e| format!("replacing {}: {e}", self.path.display()))
    }

    /// [`Kept::sync`], then [`Kept::save`] when anything changed; a failure is logged.
    pub fn sync_and_save(&self, fake: &FakeTelegram, title: &dyn Fn(i64) -> String) {
        if self.sync(fake, title)
            && let Err(e) = self.save()
        {
            tracing::error!(error = %e, "keeping the fake Telegram's history");
        }
    }
}

fn chat_mut(history: &mut History, id: i64, title: impl FnOnce() -> String) -> &mut Vec<Entry> {
    let at = match history.chats.iter().position(|c| c.id == id) {
        Some(at) => at,
        None => {
            history.chats.push(ChatLog { id, title: title(), entries: Vec::new() });
            history.chats.len() - 1
        }
    };
    &mut history.chats[at].entries
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("devserver-history-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn update_ids_and_entries_survive_a_reopen() {
        let dir = scratch("reopen");
        let kept = Kept::open(&dir, false).unwrap();
        assert_eq!(kept.take_update_id(), 1);
        let message = json!({ "message_id": 7, "chat": { "id": -5 }, "text": "hi" });
        kept.add(-5, || "그룹".into(), Entry { at_ms: 1, kind: EntryKind::Person { message, update_id: 1 } });
        kept.save().unwrap();
        let again = Kept::open(&dir, true).unwrap();
        assert_eq!(again.take_update_id(), 2);
        assert_eq!(again.chats(), vec![(-5, "그룹".to_owned())]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_store_without_a_history_starts_ids_past_any_it_saw() {
        let dir = scratch("old-store");
        assert!(Kept::open(&dir, true).unwrap().take_update_id() > 1_700_000_000);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_broken_file_is_reported_not_replaced() {
        let dir = scratch("broken");
        std::fs::write(dir.join(FILE_NAME), b"{not json").unwrap();
        let error = Kept::open(&dir, true).err().unwrap();
        assert!(error.contains("move it away"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
