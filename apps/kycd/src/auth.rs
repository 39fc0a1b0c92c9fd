//! Authentication and roles. `Authorization: Bearer <key>`; keys are 256-bit random strings
//! stored as hashes (see `kyc_store::api_keys`). The extractors below are the only way a
//! handler learns who calls, so a handler cannot forget to check the role:
//!
//! - [`Reader`]: an `integrator` or `readonly` key (GET routes of the tenant's data);
//! - [`Writer`]: an `integrator` key (routes that change the tenant's data);
//! - [`Operator`]: an `operator` key (the review queue, across tenants).
//!
//! A missing or unknown key is `401`; a known key of the wrong role `403`. Each authenticated
//! request also spends one token of the key's rate limit (`429` with `Retry-After`). Keys that
//! authenticated recently are remembered for a short while ([`KeyCache`]).

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use kyc_model::{ApiKeyId, Role, TenantId};
use kyc_store::api_keys::{self, ApiKey};
use sha2::{Digest, Sha256};

use crate::{
    error::ApiError,
    state::{AppState, read},
};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: ApiKeyId,
    pub tenant: TenantId,
    pub role: Role,
}

impl From<ApiKey> for Caller {
    fn from(key: ApiKey) -> Self {
        Self {
            key_id: key.id,
            tenant: key.tenant_id,
            role: key.role,
        }
    }
}

impl Caller {
    /// The audit-trail actor for this caller.
    pub fn actor(&self) -> kyc_model::Actor {
        kyc_model::Actor::ApiKey(self.key_id)
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 256)
        .then(|| token.to_owned())
}

/// Recently authenticated keys, so a hot key costs no database round trip. Entries live
/// [`KeyCache::TTL`]: a revoked key keeps working for at most that long on a replica that saw
/// it. Only successful lookups are cached (a flood of bad keys cannot fill it), and the map is
/// cleared when it reaches [`KeyCache::CAPACITY`].
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<[u8; 32], (Caller, Instant)>>,
}

impl KeyCache {
    /// How long an authenticated key is trusted without asking the database again.
    pub const TTL: Duration = Duration::from_secs(30);
    /// Most keys remembered at once.
    pub const CAPACITY: usize = 10_000;

    fn get(&self, digest: &[u8; 32]) -> Option<Caller> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(digest)
            .filter(|(_, at)| at.elapsed() < Self::TTL)
            .map(|(caller, _)| caller.clone())
    }

    fn put(&self, digest: [u8; 32], caller: Caller) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert(digest, (caller, Instant::now()));
    }
}

async fn authenticate(req: HttpRequest, allowed: &'static [Role]) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let token = bearer(&req).ok_or(ApiError::Unauthorized)?;
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let caller = match state.keys.get(&digest) {
        Some(caller) => caller,
        None => {
            let db = state.db.clone();
            let key = read(&state, move || {
                Ok(db.run(|conn| api_keys::authenticate(conn, &token))?)
            })
            .await?;
            let caller = Caller::from(key.ok_or(ApiError::Unauthorized)?);
            state.keys.put(digest, caller.clone());
            caller
        }
    };
    state
        .limiter
        .check(caller.key_id)
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    if !allowed.contains(&caller.role) {
        return Err(ApiError::Forbidden);
    }
    Ok(caller)
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $roles:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Caller);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move { authenticate(req, $roles).await.map($name) })
            }
        }

        impl std::ops::Deref for $name {
            type Target = Caller;
            fn deref(&self) -> &Caller {
                &self.0
            }
        }
    };
}

role_extractor!(
    /// A caller that may read its tenant's data.
    Reader,
    &[Role::Integrator, Role::Readonly]
);
role_extractor!(
    /// A caller that may change its tenant's data.
    Writer,
    &[Role::Integrator]
);
role_extractor!(
    /// A compliance operator.
    Operator,
    &[Role::Operator]
);

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_key_cache_remembers_successes_only_and_is_bounded() {
        let cache = KeyCache::default();
        let caller = Caller {
            key_id: ApiKeyId::random(),
            tenant: TenantId::random(),
            role: Role::Readonly,
        };
        assert!(cache.get(&[1; 32]).is_none());
        cache.put([1; 32], caller.clone());
        assert_eq!(cache.get(&[1; 32]).map(|c| c.key_id), Some(caller.key_id));
        assert!(cache.get(&[2; 32]).is_none());
        for i in 0..KeyCache::CAPACITY {
            let mut digest = [0u8; 32];
            digest[..8].copy_from_slice(&(i as u64).to_le_bytes());
            digest[31] = 9;
            cache.put(digest, caller.clone());
        }
        assert!(cache.entries.lock().unwrap().len() <= KeyCache::CAPACITY);
    }

    #[test]
    fn bearer_tokens_are_read_strictly() {
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Bearer abc123"))
            .to_http_request();
        assert_eq!(bearer(&req).as_deref(), Some("abc123"));
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "bearer  abc123 "))
            .to_http_request();
        assert_eq!(bearer(&req).as_deref(), Some("abc123"));
        for bad in ["Basic abc", "Bearer", "Bearer ", "abc123"] {
            let req = TestRequest::default()
                .insert_header((header::AUTHORIZATION, bad))
                .to_http_request();
            assert_eq!(bearer(&req), None, "{bad}");
        }
        assert_eq!(bearer(&TestRequest::default().to_http_request()), None);
    }
}
