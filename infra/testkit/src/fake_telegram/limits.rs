//! Telegram's flood limits, as the fake enforces them.
//!
//! Telegram does not publish exact algorithms, only "about 30 messages per second per bot, 20
//! per minute per group, 1 per second per chat, short bursts allowed". The fake turns these into
//! precise, deterministic rules (two sliding windows and a token bucket) so a sender that paces
//! itself correctly never sees a 429 and one that does not always does: flaky limits would make
//! tests flaky.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The limits applied to every send (`sendMessage`, `sendDocument`, `sendPhoto`; edits are free).
/// Defaults are Telegram's numbers; tests shrink the windows to exercise them without sleeping.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    /// At most this many sends per bot in any sliding `bot_window`.
    pub bot_max: u32,
    pub bot_window: Duration,
    /// Per chat token bucket: bursts of up to `chat_burst` sends, refilled one token per
    /// `chat_refill`.
    pub chat_burst: u32,
    pub chat_refill: Duration,
    /// For group chats (negative ids) at most this many sends in any sliding `group_window`.
    pub group_max: u32,
    pub group_window: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            bot_max: 30,
            bot_window: Duration::from_secs(1),
            chat_burst: 3,
            chat_refill: Duration::from_secs(1),
            group_max: 20,
            group_window: Duration::from_secs(60),
        }
    }
}

/// Which limit refused a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// 30 sends per second per bot.
    Bot,
    /// The per chat bucket (1 per second sustained).
    Chat,
    /// 20 sends per minute per group.
    Group,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Default)]
pub(super) struct Limiter {
    bot: VecDeque<Instant>,
    chats: HashMap<i64, Bucket>,
    groups: HashMap<i64, VecDeque<Instant>>,
}

/// Whole seconds a client must wait, never 0: Telegram never answers `retry_after: 0`.
fn whole_seconds(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

/// Sliding window: when full, the wait is until its oldest entry leaves it.
fn window_wait(times: &mut VecDeque<Instant>, max: u32, window: Duration, now: Instant) -> Option<Duration> {
    if window.is_zero() {
        return None;
    }
    while times.front().is_some_and(|t| now.saturating_duration_since(*t) >= window) {
        times.pop_front();
    }
    if times.len() < max as usize {
        return None;
    }
    let oldest = *times.front()?;
    Some((oldest + window).saturating_duration_since(now))
}

impl Limiter {
    /// Admits one send to `chat_id` at `now` or tells which limit it breaks and the whole
    /// seconds until it would be admitted. An admitted send is counted at once; the caller only
    /// asks when everything else about the send is valid, so refused sends cost nothing.
    pub(super) fn admit(&mut self, limits: &RateLimits, chat_id: i64, now: Instant) -> Result<(), (LimitKind, u64)> {
        let mut worst: Option<(LimitKind, Duration)> = None;
        let mut consider = |kind: LimitKind, wait: Option<Duration>| {
            if let Some(wait) = wait
                && worst.is_none_or(|(_, w)| wait > w)
            {
                worst = Some((kind, wait));
            }
        };

        let refill = limits.chat_refill.as_secs_f64();
        let capacity = f64::from(limits.chat_burst);
        let bucket = self.chats.entry(chat_id).or_insert(Bucket { tokens: capacity, at: now });
        if refill > 0.0 {
            let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
            bucket.tokens = (bucket.tokens + elapsed / refill).min(capacity);
            bucket.at = now;
            if bucket.tokens < 1.0 {
                consider(LimitKind::Chat, Some(Duration::from_secs_f64((1.0 - bucket.tokens) * refill)));
            }
        }

        consider(LimitKind::Bot, window_wait(&mut self.bot, limits.bot_max, limits.bot_window, now));
        if chat_id < 0 {
            let times = self.groups.entry(chat_id).or_default();
            consider(LimitKind::Group, window_wait(times, limits.group_max, limits.group_window, now));
        }

        if let Some((kind, wait)) = worst {
            return Err((kind, whole_seconds(wait)));
        }
        if refill > 0.0
            && let Some(bucket) = self.chats.get_mut(&chat_id)
        {
            bucket.tokens -= 1.0;
        }
        self.bot.push_back(now);
        if chat_id < 0 {
            self.groups.entry(chat_id).or_default().push_back(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn chat_bucket_allows_a_burst_of_three_then_one_per_second() {
        let limits = RateLimits::default();
        let mut l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            l.admit(&limits, 7, t0).unwrap();
        }
        assert_eq!(l.admit(&limits, 7, t0), Err((LimitKind::Chat, 1)));
        assert_eq!(l.admit(&limits, 7, t0 + 999 * MS), Err((LimitKind::Chat, 1)));
        l.admit(&limits, 7, t0 + 1000 * MS).unwrap();
        l.admit(&limits, 7, t0 + 2000 * MS).unwrap();
        // Another chat has its own bucket.
        l.admit(&limits, 8, t0 + 2000 * MS).unwrap();
    }

    #[test]
    fn bot_window_is_sliding() {
        let limits = RateLimits { chat_burst: 100, ..RateLimits::default() };
        let mut l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..30 {
            l.admit(&limits, i, t0 + i as u32 * 10 * MS).unwrap();
        }
        assert_eq!(l.admit(&limits, 99, t0 + 500 * MS), Err((LimitKind::Bot, 1)));
        // The first send leaves the window exactly one second after it was made.
        l.admit(&limits, 99, t0 + 1000 * MS).unwrap();
        assert!(l.admit(&limits, 100, t0 + 1005 * MS).is_err());
    }

    #[test]
    fn group_window_reports_the_longest_wait() {
        let limits = RateLimits { chat_burst: 100, chat_refill: MS, ..RateLimits::default() };
        let mut l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..20u32 {
            l.admit(&limits, -5, t0 + i * 100 * MS).unwrap();
        }
        // 20 sends in the last 60 s; the first leaves the window at t0 + 60 s.
        assert_eq!(l.admit(&limits, -5, t0 + 2500 * MS), Err((LimitKind::Group, 58)));
        l.admit(&limits, 5, t0 + 2500 * MS).unwrap();
        l.admit(&limits, -5, t0 + 60_000 * MS).unwrap();
    }
}
