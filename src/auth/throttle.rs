//! Rate limits (OWASP API4): a quota per bearer token and one per client
//! address, each a GCRA bucket (`governor`) that refills continuously.
//! Every limited answer carries `RateLimit-Limit`, `RateLimit-Remaining`
//! and `RateLimit-Reset` (the tighter of the two quotas); past the quota the
//! answer is 429 with `Retry-After`, before any handler or query runs.
//!
//! The buckets live in this process: with several replicas each keeps its
//! own, so a client's quota is per replica (docs/PERFORMANCE.md).

use std::collections::hash_map::RandomState;
use std::future::{Ready, ready};
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue};
use futures_util::future::LocalBoxFuture;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::ApiError;

pub const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
pub const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
pub const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

type Buckets<K> =
    RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// Requests per minute a token, and an address, may make; `None`: no limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub per_token: Option<NonZeroU32>,
    pub per_address: Option<NonZeroU32>,
}

/// What one request may do, as its headers will say.
struct Allowance {
    limit: u32,
    remaining: u32,
    /// Seconds until the bucket is full again, or (refused) until the next
    /// request is allowed.
    reset: u64,
}

/// The buckets, shared by every worker.
pub struct Throttle {
    tokens: Option<Buckets<u64>>,
    addresses: Option<Buckets<IpAddr>>,
    hasher: RandomState,
    clock: DefaultClock,
    checks: AtomicU64,
}

/// Forget buckets that are full again every so many checks, so memory stays
/// bounded by the clients of the last minute or so.
const SWEEP_EVERY: u64 = 10_000;

impl Throttle {
    pub fn new(limits: Limits) -> Arc<Throttle> {
        Arc::new(Throttle {
            tokens: limits.per_token.map(buckets),
            addresses: limits.per_address.map(buckets),
            hasher: RandomState::new(),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        })
    }

    fn check<K: std::hash::Hash + Eq + Clone>(
        &self,
        buckets: &Buckets<K>,
        key: &K,
    ) -> Result<Allowance, Allowance> {
        match buckets.check_key(key) {
            Ok(state) => {
                let quota = state.quota();
                let remaining = state.remaining_burst_capacity();
                let used = quota.burst_size().get() - remaining;
                Ok(Allowance {
                    limit: quota.burst_size().get(),
                    remaining,
                    reset: seconds(quota.replenish_interval() * used),
                })
            }
            Err(refused) => Err(Allowance {
                limit: refused.quota().burst_size().get(),
                remaining: 0,
                reset: seconds(refused.wait_time_from(self.clock.now())).max(1),
            }),
        }
    }

    /// Spends one request of the token's and the address's quotas; the
    /// tighter allowance, or the refusal.
    fn spend(
        &self,
        token: Option<&str>,
        address: Option<IpAddr>,
    ) -> Result<Option<Allowance>, Allowance> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            if let Some(b) = &self.tokens {
                b.retain_recent();
            }
            if let Some(b) = &self.addresses {
                b.retain_recent();
            }
        }
        let mut tightest: Option<Allowance> = None;
        let mut keep = |a: Allowance| {
            if tightest.as_ref().is_none_or(|t| a.remaining < t.remaining) {
                tightest = Some(a);
            }
        };
        if let (Some(b), Some(ip)) = (&self.addresses, address) {
            keep(self.check(b, &ip)?);
        }
        if let (Some(b), Some(token)) = (&self.tokens, token) {
            // The token's digest is the key: buckets do not keep tokens.
            keep(self.check(b, &self.hasher.hash_one(token))?);
        }
        Ok(tightest)
    }
}

fn buckets<K: std::hash::Hash + Eq + Clone>(per_minute: NonZeroU32) -> Buckets<K> {
    RateLimiter::keyed(Quota::per_minute(per_minute))
        .with_middleware::<StateInformationMiddleware>()
}

fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn set_headers(headers: &mut actix_web::http::header::HeaderMap, a: &Allowance) {
    for (name, value) in [
        (RATELIMIT_LIMIT, u64::from(a.limit)),
        (RATELIMIT_REMAINING, u64::from(a.remaining)),
        (RATELIMIT_RESET, a.reset),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

/// Whether a request counts against the quotas: the API, and the public
/// dashboard's token endpoint (the description says so from here too).
pub fn limited(path: &str) -> bool {
    path.starts_with("/api/") || path == "/dashboard/token"
}

/// The middleware.
pub struct Throttled(pub Arc<Throttle>);

impl<S, B> Transform<S, ServiceRequest> for Throttled
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = actix_web::Error;
    type Transform = ThrottledService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ThrottledService {
            service: Rc::new(service),
            throttle: self.0.clone(),
        }))
    }
}

pub struct ThrottledService<S> {
    service: Rc<S>,
    throttle: Arc<Throttle>,
}

impl<S, B> Service<ServiceRequest> for ThrottledService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if !limited(req.path()) {
            let fut = self.service.call(req);
            return Box::pin(async move { Ok(fut.await?.map_into_left_body()) });
        }
        // The token as authentication reads it, so `bearer X` and
        // `Bearer  X` spend the same quota as `Bearer X`.
        let token = super::bearer_token(req.headers()).ok();
        let address = req.peer_addr().map(|a| a.ip());
        match self.throttle.spend(token, address) {
            Err(refused) => {
                let mut res = actix_web::ResponseError::error_response(&ApiError::TooManyRequests(
                    refused.reset,
                ));
                set_headers(res.headers_mut(), &refused);
                Box::pin(ready(Ok(req.into_response(res).map_into_right_body())))
            }
            Ok(allowance) => {
                let fut = self.service.call(req);
                Box::pin(async move {
                    let mut res = fut.await?;
                    if let Some(a) = &allowance {
                        set_headers(res.headers_mut(), a);
                    }
                    Ok(res.map_into_left_body())
                })
            }
        }
    }
}

/// Wrong secrets per client id: after [`FailedSecrets::PER_MINUTE`] in a
/// minute, `POST /auth/token` for that id answers 429 before any hash is
/// computed, so guessing one account's secret costs the service little.
/// Memory is bounded: past [`FailedSecrets::IDS`] ids the oldest windows go.
#[derive(Default)]
pub struct FailedSecrets {
    windows: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u32)>>,
}

impl FailedSecrets {
    pub const PER_MINUTE: u32 = 20;
    const IDS: usize = 10_000;
    const WINDOW: Duration = Duration::from_secs(60);

    /// Seconds until `client_id` may try again, if it is past its quota.
    pub fn refused(&self, client_id: &str) -> Option<u64> {
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let (start, failures) = windows.get(client_id)?;
        let left = Self::WINDOW.saturating_sub(start.elapsed());
        (*failures >= Self::PER_MINUTE && !left.is_zero()).then(|| seconds(left).max(1))
    }

    /// Counts a wrong secret for `client_id`.
    pub fn failed(&self, client_id: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        if windows.len() >= Self::IDS {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Self::WINDOW);
        }
        if windows.len() >= Self::IDS {
            return; // every window is fresh: count nothing rather than grow
        }
        let entry = windows.entry(client_id.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= Self::WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}
