//! When and how long to wait before trying an LLM call again.
//!
//! Pure policy, no I/O: the HTTP transport asks it for the delay after each
//! failed attempt and decides, against the call's deadline, whether to wait.

use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// Exponential backoff with full jitter, bounded by an attempt cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: u32,
    /// Ceiling of the first backoff; it doubles after every failure.
    pub base: Duration,
    /// Largest backoff ceiling, however many failures came before.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts, backoff ceilings of 250 ms, 500 ms, 1 s (capped at 8 s).
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failures`-th failed attempt (1-based).
    ///
    /// A provider's `Retry-After` wins over our own backoff: it knows when its
    /// window reopens, and retrying earlier only burns an attempt.
    pub fn delay(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(d) if !d.is_zero() => d,
            _ => jitter(self.ceiling(failures)),
        }
    }

    /// Upper bound of the backoff after `failures` failures: base·2^(n−1), capped.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.base
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.cap)
            .min(self.cap)
    }
}

/// A uniformly random duration in `[0, max]` ("full jitter"), so clients that
/// failed together do not retry together.
pub fn jitter(max: Duration) -> Duration {
    // RandomState is seeded randomly per process and each new one differs;
    // the counter separates calls that land on the same seed. Cryptographic
    // quality is irrelevant here, only spread.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    // 53 random bits → a float in [0, 1).
    let unit = (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64;
    max.mul_f64(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_up_to_the_cap() {
        let p = RetryPolicy::default();
        let ms = |n| p.ceiling(n).as_millis();
        assert_eq!((ms(1), ms(2), ms(3), ms(4)), (250, 500, 1000, 2000));
        assert_eq!(ms(10), 8000);
        assert_eq!(ms(u32::MAX), 8000);
    }

    #[test]
    fn jitter_stays_in_range_and_varies() {
        let max = Duration::from_millis(1000);
        let samples: Vec<Duration> = (0..200).map(|_| jitter(max)).collect();
        assert!(samples.iter().all(|d| *d <= max));
        let distinct: std::collections::HashSet<_> = samples.iter().collect();
        assert!(
            distinct.len() > 150,
            "jitter must spread: {}",
            distinct.len()
        );
        let mean = samples.iter().map(Duration::as_secs_f64).sum::<f64>() / 200.0;
        assert!((0.3..0.7).contains(&mean), "roughly uniform, mean {mean}");
    }

    #[test]
    fn retry_after_wins_over_backoff() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert!(p.delay(2, Some(Duration::ZERO)) <= Duration::from_millis(500));
        assert!(p.delay(1, None) <= Duration::from_millis(250));
    }
}
