//! Per-API-key rate limits (GCRA, the `governor` crate). Limits are per process: behind a load
//! balancer each replica enforces its own share, which bounds abuse without shared state.

use std::{num::NonZeroU32, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use kyc_model::ApiKeyId;

/// A keyed limiter.
pub struct KeyRateLimiter {
    limiter: DefaultKeyedRateLimiter<ApiKeyId>,
    clock: DefaultClock,
}

impl KeyRateLimiter {
    /// `per_second` sustained, `burst` at once (both at least 1).
    pub fn new(per_second: u32, burst: u32) -> Self {
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// `Ok` when the key may make a request now, else how long until it may (whole seconds,
    /// at least 1, for `Retry-After`).
    pub fn check(&self, key: ApiKeyId) -> Result<(), u64> {
        self.limiter.check_key(&key).map_err(|not_until| {
            let wait: Duration = not_until.wait_time_from(self.clock.now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    /// Drops the state of keys that are back at full quota (called periodically).
    pub fn shrink(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_limited() {
        let limiter = KeyRateLimiter::new(1, 3);
        let key = ApiKeyId::random();
        for _ in 0..3 {
            assert_eq!(limiter.check(key), Ok(()));
        }
        let retry = limiter.check(key).unwrap_err();
        assert!((1..=2).contains(&retry), "{retry}");
        // Another key is not affected.
        assert_eq!(limiter.check(ApiKeyId::random()), Ok(()));
    }
}
