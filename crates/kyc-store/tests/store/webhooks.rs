//! Webhook configuration, the outbox and the delivery log.

use std::{collections::HashSet, time::Duration};

use kyc_model::{EventId, EventType};
use kyc_store::{
    list::PageRequest,
    webhooks::{self, NewDelivery, OutboxStatus, WebhookConfigInput, WebhookSecret},
};

use crate::{both_backends, common::*};

both_backends! {
    fn config_upsert_with_sealed_secret(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        assert_eq!(db.run(|c| webhooks::get_config(c, db.keys(), t)).unwrap(), None);
        let input = WebhookConfigInput {
            url: "https://hooks.example.com/kyc".into(),
            enabled: true,
            event_types: vec![EventType::IdentityCreated, EventType::KycLevelChanged],
            secret: WebhookSecret::new("whsec_SECRETMARKER"),
        };
        assert!(!db.run(|c| webhooks::subscribed(c, t, EventType::IdentityCreated)).unwrap(), "no configuration");
        let first = db.write(|c| webhooks::put_config(c, db.keys(), t, &input)).unwrap();
        assert!(db.run(|c| webhooks::subscribed(c, t, EventType::IdentityCreated)).unwrap());
        assert!(!db.run(|c| webhooks::subscribed(c, t, EventType::ReviewRequired)).unwrap(), "not subscribed");
        assert!(!db.run(|c| webhooks::subscribed(c, other, EventType::IdentityCreated)).unwrap(), "another tenant's");
        assert_eq!(first.event_types, input.event_types);
        assert_eq!(first.secret, input.secret);
        assert!(!format!("{first:?}").contains("SECRETMARKER"));
        let replaced = WebhookConfigInput { enabled: false, event_types: vec![EventType::ReviewRequired], ..input.clone() };
        let second = db.write(|c| webhooks::put_config(c, db.keys(), t, &replaced)).unwrap();
        assert_eq!(second.created_at, first.created_at, "an upsert, not a new row");
        assert!(!second.enabled);
        assert!(!db.run(|c| webhooks::subscribed(c, t, EventType::ReviewRequired)).unwrap(), "disabled");
        assert_eq!(db.run(|c| webhooks::get_config(c, db.keys(), t)).unwrap(), Some(second));
        assert_eq!(db.run(|c| webhooks::get_config(c, db.keys(), other)).unwrap(), None);
        if let Some(bytes) = db.sqlite_bytes() {
            assert!(!contains(&bytes, b"SECRETMARKER"));
        }
    }

    fn outbox_claim_deliver_retry(db) {
        let t = tenant(db, "acme");
        let other = tenant(db, "globex");
        let e1 = db.write(|c| webhooks::enqueue(c, t, EventType::IdentityCreated, &serde_json::json!({"id": "p1"}))).unwrap();
        std::thread::sleep(Duration::from_millis(3));
        let e2 = db.write(|c| webhooks::enqueue(c, other, EventType::KycLevelChanged, &serde_json::json!({"id": "p2", "to": "L1"}))).unwrap();
        assert_eq!(e1.status, OutboxStatus::Pending);
        assert_eq!(db.run(|c| webhooks::find_event(c, t, e1.id)).unwrap(), e1);
        assert!(db.run(|c| webhooks::find_event(c, other, e1.id)).unwrap_err().is_not_found());

        let now = kyc_store::now();
        let lease = Duration::from_secs(30);
        let claimed = db.write(|c| webhooks::claim_due(c, now, 10, lease)).unwrap();
        assert_eq!(claimed.iter().map(|e| e.id).collect::<Vec<_>>(), vec![e1.id, e2.id]);
        assert!(claimed.iter().all(|e| e.attempts == 1 && e.next_attempt_at == now + lease));
        assert!(db.write(|c| webhooks::claim_due(c, now, 10, lease)).unwrap().is_empty(), "leased");

        db.write(|c| webhooks::mark_delivered(c, e1.id)).unwrap();
        db.write(|c| webhooks::reschedule(c, e2.id, now + Duration::from_secs(5), "HTTP 503")).unwrap();
        let e1_now = db.run(|c| webhooks::find_event(c, t, e1.id)).unwrap();
        assert_eq!(e1_now.status, OutboxStatus::Delivered);
        assert!(e1_now.delivered_at.is_some());
        assert!(db.write(|c| webhooks::claim_due(c, now + Duration::from_secs(4), 10, lease)).unwrap().is_empty());
        let retry = db.write(|c| webhooks::claim_due(c, now + Duration::from_secs(5), 10, lease)).unwrap();
        assert_eq!(retry.len(), 1);
        assert_eq!((retry[0].id, retry[0].attempts), (e2.id, 2));
        assert_eq!(retry[0].last_error.as_deref(), Some("HTTP 503"));
        db.write(|c| webhooks::mark_dead(c, e2.id, "too many attempts")).unwrap();
        assert_eq!(db.run(|c| webhooks::find_event(c, other, e2.id)).unwrap().status, OutboxStatus::Dead);
        assert!(db.write(|c| webhooks::claim_due(c, now + Duration::from_secs(3600), 10, lease)).unwrap().is_empty());
        assert!(db.write(|c| webhooks::mark_delivered(c, EventId::random())).unwrap_err().is_not_found());

        // The delivery log.
        let d = db.write(|c| webhooks::record_delivery(c, &NewDelivery {
            event_id: e1.id, tenant_id: t, url: "https://hooks.example.com/kyc".into(), attempt: 1,
            status_code: Some(204), error: None, duration_ms: 42,
        })).unwrap();
        let page = db.run(|c| webhooks::list_deliveries(c, t, PageRequest::default())).unwrap();
        assert_eq!((page.items, page.total), (vec![d], 1));
        assert!(db.run(|c| webhooks::list_deliveries(c, other, PageRequest::default())).unwrap().items.is_empty());
        assert!(db.write(|c| webhooks::record_delivery(c, &NewDelivery {
            event_id: e1.id, tenant_id: other, url: "x".into(), attempt: 1, status_code: None, error: Some("timeout".into()), duration_ms: 1,
        })).unwrap_err().is_not_found());
    }

    fn concurrent_claimers_get_disjoint_events(db) {
        let t = tenant(db, "acme");
        for i in 0..40 {
            db.write(|c| webhooks::enqueue(c, t, EventType::IdentityUpdated, &serde_json::json!({ "n": i }))).unwrap();
        }
        let now = kyc_store::now() + Duration::from_secs(1);
        let batches: Vec<Vec<EventId>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let got = db.write(|c| webhooks::claim_due(c, now, 3, Duration::from_secs(60))).unwrap();
                        if got.is_empty() { break mine; }
                        mine.extend(got.into_iter().map(|e| e.id));
                    }
                }))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let all: Vec<EventId> = batches.into_iter().flatten().collect();
        let unique: HashSet<EventId> = all.iter().copied().collect();
        assert_eq!(all.len(), 40, "every event claimed once");
        assert_eq!(unique.len(), 40, "no event claimed twice");
    }
}

both_backends! {
    /// The events of one transaction keep their order even within one millisecond.
    fn enqueue_orders_a_tenants_events(db) {
        let t = tenant(db, "acme");
        let events = db
            .write(|c| {
                (0..5)
                    .map(|n| webhooks::enqueue(c, t, EventType::IdentityUpdated, &serde_json::json!({ "n": n })))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        assert!(events.windows(2).all(|w| w[0].created_at < w[1].created_at));
        // A unit's events in one call (batches of four and one): after the tenant's latest,
        // in their order, as claimed.
        let payloads: Vec<serde_json::Value> = (5..14).map(|n| serde_json::json!({ "n": n })).collect();
        let batch: Vec<_> = payloads.iter().map(|p| (EventType::IdentityUpdated, p)).collect();
        let queued = db.write(|c| webhooks::enqueue_all(c, t, &batch)).unwrap();
        assert_eq!(queued.iter().map(|e| &e.payload).collect::<Vec<_>>(), payloads.iter().collect::<Vec<_>>());
        assert!(queued[0].created_at > events[4].created_at);
        assert!(queued.windows(2).all(|w| w[0].created_at < w[1].created_at));
        for e in &queued {
            assert_eq!(db.run(|c| webhooks::find_event(c, t, e.id)).unwrap(), *e);
        }
        assert!(db.write(|c| webhooks::enqueue_all(c, t, &[])).unwrap().is_empty());
    }

    fn subscriptions_are_the_enabled_configurations_types(db) {
        let t = tenant(db, "acme");
        assert!(db.run(|c| webhooks::subscriptions(c, t)).unwrap().is_empty(), "no configuration");
        let input = WebhookConfigInput {
            url: "https://hooks.example.com/kyc".into(),
            enabled: true,
            event_types: vec![EventType::KycLevelChanged, EventType::IdentityCreated],
            secret: WebhookSecret::new("whsec_x"),
        };
        db.write(|c| webhooks::put_config(c, db.keys(), t, &input)).unwrap();
        assert_eq!(db.run(|c| webhooks::subscriptions(c, t)).unwrap(), input.event_types);
        db.write(|c| webhooks::put_config(c, db.keys(), t, &WebhookConfigInput { enabled: false, ..input.clone() })).unwrap();
        assert!(db.run(|c| webhooks::subscriptions(c, t)).unwrap().is_empty(), "disabled");
    }

    /// Only the head of each tenant's queue is claimable: a tenant's events go out one at a
    /// time and in order, while other tenants' events are not held back.
    fn tenant_heads_are_claimed_in_order(db) {
        let (t, u) = (tenant(db, "acme"), tenant(db, "globex"));
        let mine = db
            .write(|c| {
                (0..3)
                    .map(|n| webhooks::enqueue(c, t, EventType::IdentityUpdated, &serde_json::json!({ "n": n })))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        let theirs = db.write(|c| webhooks::enqueue(c, u, EventType::IdentityCreated, &serde_json::json!({}))).unwrap();
        let lease = Duration::from_secs(30);
        let now = kyc_store::now() + Duration::from_millis(10);
        let claim = |at| db.write(|c| webhooks::claim_next_per_tenant(c, at, 10, lease)).unwrap();
        let first = claim(now);
        // Across tenants the heads go oldest first, ties (one millisecond) broken by id.
        let mut heads = [&mine[0], &theirs];
        heads.sort_by_key(|e| (e.next_attempt_at, e.id));
        assert_eq!(
            first.iter().map(|e| e.id).collect::<Vec<_>>(),
            heads.iter().map(|e| e.id).collect::<Vec<_>>()
        );
        let first: Vec<_> = first.into_iter().filter(|e| e.tenant_id == t).collect();
        assert_eq!(first[0].attempts, 1);
        assert!(claim(now).is_empty(), "the heads are leased; the rest wait behind them");
        db.write(|c| webhooks::mark_delivered(c, theirs.id)).unwrap();

        // A failed head is retried before anything behind it goes out.
        db.write(|c| webhooks::reschedule(c, mine[0].id, now + Duration::from_secs(5), "HTTP 500")).unwrap();
        assert!(claim(now + Duration::from_secs(1)).is_empty());
        let retry = claim(now + Duration::from_secs(5));
        assert_eq!((retry.len(), retry[0].id, retry[0].attempts), (1, mine[0].id, 2));
        db.write(|c| webhooks::mark_delivered(c, mine[0].id)).unwrap();
        assert_eq!(claim(now + Duration::from_secs(5))[0].id, mine[1].id);
        // Giving up on an event releases the next one too.
        db.write(|c| webhooks::mark_dead(c, mine[1].id, "too many attempts")).unwrap();
        assert_eq!(claim(now + Duration::from_secs(5))[0].id, mine[2].id);
        db.write(|c| webhooks::mark_delivered(c, mine[2].id)).unwrap();
        assert!(claim(now + Duration::from_secs(3600)).is_empty());
    }

    /// Replicas claiming at once never hold two events of one tenant, and every event is
    /// claimed exactly once, in each tenant's order.
    fn concurrent_head_claimers_keep_each_tenants_order(db) {
        let tenants: Vec<_> = (0..3).map(|i| tenant(db, &format!("t{i}"))).collect();
        let mut expected = std::collections::HashMap::new();
        for n in 0..10 {
            for &t in &tenants {
                let e = db.write(|c| webhooks::enqueue(c, t, EventType::IdentityUpdated, &serde_json::json!({ "n": n }))).unwrap();
                expected.entry(t).or_insert_with(Vec::new).push(e.id);
            }
        }
        let now = kyc_store::now() + Duration::from_millis(10);
        let delivered = std::sync::Mutex::new(std::collections::HashMap::<_, Vec<EventId>>::new());
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| loop {
                    let got = db.write(|c| webhooks::claim_next_per_tenant(c, now, 2, Duration::from_secs(60))).unwrap();
                    if got.is_empty() {
                        let left = expected.values().map(Vec::len).sum::<usize>();
                        if delivered.lock().unwrap().values().map(Vec::len).sum::<usize>() == left {
                            break;
                        }
                        std::thread::yield_now();
                        continue;
                    }
                    for e in got {
                        delivered.lock().unwrap().entry(e.tenant_id).or_default().push(e.id);
                        db.write(|c| webhooks::mark_delivered(c, e.id)).unwrap();
                    }
                });
            }
        });
        assert_eq!(delivered.into_inner().unwrap(), expected);
    }
}
