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

/// Reserves one event against several buckets at once: the earliest time at or after
/// `not_before` that every bucket allows, and each bucket's new state. Reserving them one after the
/// other instead would let a later bucket push the send past the slot an earlier one recorded.
pub fn reserve_all(buckets: &[(Rate, Option<u64>)], not_before_ms: u64) -> (u64, Vec<u64>) {
    let send_at = buckets
        .iter()
        .map(|(rate, tat)| tat.unwrap_or(0).saturating_sub(rate.tolerance_ms()))
        .fold(not_before_ms, u64::max);
    let tats = buckets.iter().map(|(rate, tat)| tat.unwrap_or(0).max(send_at) + rate.interval_ms).collect();
    (send_at, tats)
}

/// Telegram's limits, with margins so that a paced sender never meets a 429 of its own making:
/// about 30 messages a second per bot, one a second per chat, 20 a minute per group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelegramLimits {
    pub per_bot: Rate,
    pub per_chat: Rate,
    pub per_group_minute: Rate,
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

    /// The most events in any window of `window_ms` among sorted send times.
    fn max_in_window(times: &[u64], window_ms: u64) -> usize {
        times
            .iter()
            .enumerate()
            .map(|(i, t)| times[i..].iter().take_while(|u| **u < t + window_ms).count())
            .max()
            .unwrap_or(0)
    }

    fn schedule(rate: Rate, n: usize) -> Vec<u64> {
        let mut tat = None;
        (0..n)
            .map(|_| {
                let (at, tats) = reserve_all(&[(rate, tat)], 0);
                tat = tats.first().copied();
                at
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
    fn several_buckets_agree_on_one_time() {
        let chat = Rate { interval_ms: 1_050, burst: 1 };
        let bot = Rate { interval_ms: 37, burst: 1 };
        // The bot is busy until 5,000: the chat's next send is then, and its bucket records that.
        let (at, tats) = reserve_all(&[(chat, Some(1_000)), (bot, Some(5_000))], 0);
        assert_eq!((at, tats), (5_000, vec![6_050, 5_037]));
        let (next, _) = reserve_all(&[(chat, Some(6_050)), (bot, Some(5_037))], 0);
        assert_eq!(next, 6_050, "one second after the previous send, not 37 ms");
    }

    #[test]
    fn an_idle_bucket_does_not_bank_more_than_its_burst() {
        let rate = Rate { interval_ms: 1_000, burst: 2 };
        let one = |tat: u64| reserve_all(&[(rate, Some(tat))], 100_000);
        let (a, tats_a) = one(5_000);
        let (b, tats_b) = one(tats_a[0]);
        let (c, _) = one(tats_b[0]);
        assert_eq!((a, b, c), (100_000, 100_000, 101_000));
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
