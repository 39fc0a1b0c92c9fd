//! Authentication and roles. `Authorization: Bearer <key>`; keys are 256-bit random strings
//! stored as hashes (see `kyc_store::api_keys`). The extractors below are the only way a
//! handler learns who calls, so a handler cannot forget to check the role:
//!
//! - [`Reader`]: an `integrator` or `readonly` key (GET routes of the tenant's data);
//! - [`Writer`]: an `integrator` key (routes that change the tenant's data);
//! - [`Operator`]: an `operator` key (the review queue, across tenants).
//!
//! A missing or unknown key is `401`; a known key of the wrong role `403`. Each authenticated
//! request also spends one token of the key's rate limit (`429` with `Retry-After`).

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use kyc_model::{ApiKeyId, Role, TenantId};
use kyc_store::api_keys::{self, ApiKey};

use crate::{
    error::ApiError,
    state::{AppState, blocking},
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

async fn authenticate(req: HttpRequest, allowed: &'static [Role]) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let token = bearer(&req).ok_or(ApiError::Unauthorized)?;
    let db = state.db.clone();
    let key = blocking(move || Ok(db.run(|conn| api_keys::authenticate(conn, &token))?)).await?;
    let caller = Caller::from(key.ok_or(ApiError::Unauthorized)?);
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
