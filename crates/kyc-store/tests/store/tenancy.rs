//! Tenants, API keys and containers.

use kyc_model::{ApiKeyId, ContainerId, Role, TenantId};
use kyc_store::{StoreError, api_keys, containers, tenants};

use crate::{both_backends, common::*};

both_backends! {
    fn tenants_create_find_list(db) {
        let a = db.write(|c| tenants::create(c, "acme")).unwrap();
        let b = db.write(|c| tenants::create(c, "globex")).unwrap();
        assert_eq!(db.run(|c| tenants::find(c, a.id)).unwrap(), a);
        assert_eq!(db.run(|c| tenants::find_by_name(c, "globex")).unwrap(), b);
        let all = db.run(tenants::list).unwrap();
        assert_eq!(all.len(), 2);
        assert!(all.contains(&a) && all.contains(&b));
        assert!(matches!(
            db.write(|c| tenants::create(c, "acme")),
            Err(StoreError::Duplicate { entity: "tenant" })
        ));
        assert!(db.run(|c| tenants::find(c, TenantId::random())).unwrap_err().is_not_found());
        assert!(db.run(|c| tenants::find_by_name(c, "nope")).unwrap_err().is_not_found());
    }

    fn api_keys_authenticate_list_revoke(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let (key, secret) = db.write(|c| api_keys::create(c, t, Role::Integrator)).unwrap();
        let (op, op_secret) = db.write(|c| api_keys::create(c, t, Role::Operator)).unwrap();
        assert_eq!(key.tenant_id, t);
        assert!(secret.as_str().starts_with("kycd_"));
        assert_eq!(format!("{secret:?}"), "ApiKeySecret(<redacted>)");
        assert_ne!(secret, op_secret);

        let found = db.run(|c| api_keys::authenticate(c, secret.as_str())).unwrap();
        assert_eq!(found, Some(key.clone()));
        let found = db.run(|c| api_keys::authenticate(c, op_secret.as_str())).unwrap();
        assert_eq!(found.map(|k| k.role), Some(Role::Operator));
        assert_eq!(db.run(|c| api_keys::authenticate(c, "kycd_wrong")).unwrap(), None);
        let mut almost = secret.as_str().to_owned();
        almost.pop();
        almost.push('x');
        assert_eq!(db.run(|c| api_keys::authenticate(c, &almost)).unwrap(), None);

        let listed = db.run(|c| api_keys::list(c, t)).unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.contains(&op) && listed.contains(&key));
        assert!(db.run(|c| api_keys::list(c, other)).unwrap().is_empty());

        // Another tenant cannot revoke it; its own tenant can, and it stops working.
        assert!(db.write(|c| api_keys::revoke(c, other, key.id)).unwrap_err().is_not_found());
        assert!(db.write(|c| api_keys::revoke(c, t, ApiKeyId::random())).unwrap_err().is_not_found());
        db.write(|c| api_keys::revoke(c, t, key.id)).unwrap();
        db.write(|c| api_keys::revoke(c, t, key.id)).unwrap();
        assert_eq!(db.run(|c| api_keys::authenticate(c, secret.as_str())).unwrap(), None);
        let revoked = db.run(|c| api_keys::list(c, t)).unwrap();
        assert!(revoked.iter().any(|k| k.id == key.id && k.revoked_at.is_some()));
        assert!(db.write(|c| api_keys::create(c, TenantId::random(), Role::Readonly)).unwrap_err().is_not_found());
    }

    fn containers_are_tenant_scoped(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let made = db.write(|c| containers::create(c, t)).unwrap();
        assert_eq!(db.run(|c| containers::find(c, t, made.id)).unwrap(), made);
        assert!(db.run(|c| containers::find(c, other, made.id)).unwrap_err().is_not_found());
        assert!(db.run(|c| containers::find(c, t, ContainerId::random())).unwrap_err().is_not_found());
    }
}
