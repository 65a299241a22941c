//! Issue 15 (1): the audit chain is keyed, anchored by checkpoints kept outside the database,
//! and the serving role cannot rewrite it.

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use groupwork::auth::Role;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::{TestApp, TestUser};

#[derive(Queryable, Debug)]
struct Event {
    seq: i64,
    id: Uuid,
    occurred_at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    actor_role: Option<String>,
    action: String,
    resource_type: String,
    resource_id: Option<Uuid>,
    outcome: String,
    request_id: String,
    ip: Option<String>,
    details: Value,
    /// Null until sealed.
    hash: Option<Vec<u8>>,
}

fn events(conn: &mut PgConnection) -> Vec<Event> {
    use groupwork::schema::audit_events as ae;
    ae::table
        .order(ae::seq.asc())
        .select((
            ae::seq,
            ae::id,
            ae::occurred_at,
            ae::actor_id,
            ae::actor_role,
            ae::action,
            ae::resource_type,
            ae::resource_id,
            ae::outcome,
            ae::request_id,
            ae::ip,
            ae::details,
            ae::hash,
        ))
        .load(conn)
        .unwrap()
}

/// The unkeyed SHA-256 chain hash of the first version: what anyone holding the database,
/// but not the audit key, can recompute.
fn unkeyed_hash(prev: &[u8], e: &Event) -> Vec<u8> {
    let opt = |o: Option<String>| o.unwrap_or_default();
    let fields = [
        e.id.to_string(),
        e.occurred_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        opt(e.actor_id.map(|u| u.to_string())),
        opt(e.actor_role.clone()),
        e.action.clone(),
        e.resource_type.clone(),
        opt(e.resource_id.map(|u| u.to_string())),
        e.outcome.clone(),
        e.request_id.clone(),
        opt(e.ip.clone()),
        e.details.to_string(), // serde_json's map is sorted: the canonical form
    ];
    let mut h = Sha256::new();
    h.update(prev);
    for f in &fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    h.finalize().to_vec()
}

/// As the database's owner: with the append-only trigger disabled, run `sql`.
fn as_owner_without_trigger(app: &TestApp, sql: &str) {
    let mut conn = app.conn();
    conn.batch_execute(&format!(
        "BEGIN; ALTER TABLE audit_events DISABLE TRIGGER USER; {sql}; \
         ALTER TABLE audit_events ENABLE TRIGGER USER; COMMIT;"
    ))
    .unwrap();
}

async fn some_events(app: &TestApp, who: &TestUser, n: usize) {
    for i in 0..n {
        app.post(
            Some(who),
            "/clients",
            json!({"first_name": format!("Chain{i}"), "last_name": "Member",
                   "date_of_birth": "1980-01-02", "referral_source": "self"}),
        )
        .await
        .expect(201);
    }
}

#[actix_web::test]
async fn a_deleted_event_cannot_be_hidden_by_recomputing_the_hashes() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let intake = app.staff(Role::Intake).await;
    some_events(&app, &intake, 5).await;
    let v = app
        .get(Some(&admin), "/audit-events/verify")
        .await
        .expect(200);
    assert_eq!(v.body["intact"], true, "{}", v.text);
    assert_eq!(v.body["events_checked"], 5);

    // the attack of the review: delete the second event, relink and recompute every later
    // hash the way the chain used to be computed
    let all = events(&mut app.conn());
    let mut sql = format!("DELETE FROM audit_events WHERE id = '{}'", all[1].id);
    let mut prev = all[0].hash.clone().unwrap();
    for e in &all[2..] {
        let h = unkeyed_hash(&prev, e);
        sql.push_str(&format!(
            "; UPDATE audit_events SET prev_hash = '\\x{}', hash = '\\x{}' WHERE seq = {}",
            hex::encode(&prev),
            hex::encode(&h),
            e.seq
        ));
        prev = h;
    }
    as_owner_without_trigger(&app, &sql);
    let v = app
        .get(Some(&admin), "/audit-events/verify")
        .await
        .expect(200);
    assert_eq!(v.body["intact"], false, "{}", v.text);
    assert_eq!(v.body["first_broken_id"], all[2].id.to_string());

    // rewriting the whole chain without the key does not pass either
    let mut sql = String::from("SELECT 1");
    let mut prev = vec![0u8; 32];
    for e in events(&mut app.conn()) {
        let h = unkeyed_hash(&prev, &e);
        sql.push_str(&format!(
            "; UPDATE audit_events SET prev_hash = '\\x{}', hash = '\\x{}' WHERE seq = {}",
            hex::encode(&prev),
            hex::encode(&h),
            e.seq
        ));
        prev = h;
    }
    as_owner_without_trigger(&app, &sql);
    let v = app
        .get(Some(&admin), "/audit-events/verify")
        .await
        .expect(200);
    assert_eq!(v.body["intact"], false, "{}", v.text);
    assert_eq!(v.body["first_broken_id"], all[0].id.to_string());
}

#[actix_web::test]
async fn a_checkpoint_catches_the_newest_events_removed() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let intake = app.staff(Role::Intake).await;
    some_events(&app, &intake, 3).await;
    let c = app
        .get(Some(&admin), "/audit-events/checkpoint")
        .await
        .expect(200);
    let checkpoint = c.body.clone();
    for field in ["last_id", "events", "head_hash", "signed_at", "signature"] {
        assert!(!checkpoint[field].is_null(), "{field}: {}", c.text);
    }
    assert_eq!(checkpoint["events"], 3);
    let all = events(&mut app.conn());
    assert_eq!(checkpoint["last_id"], all[2].id.to_string());
    assert_eq!(
        checkpoint["head_hash"],
        hex::encode(all[2].hash.as_ref().unwrap())
    );
    assert_eq!(app.audit_actions("audit.checkpoint").len(), 1);

    some_events(&app, &intake, 2).await;
    let v = app
        .post(
            Some(&admin),
            "/audit-events/verify",
            json!({"checkpoint": checkpoint}),
        )
        .await
        .expect(200);
    assert_eq!(v.body["intact"], true, "{}", v.text);
    assert_eq!(v.body["checkpoint_ok"], true);

    // remove the newest events, the checkpoint's head included: the rest is a valid chain
    as_owner_without_trigger(
        &app,
        &format!("DELETE FROM audit_events WHERE seq >= {}", all[2].seq),
    );
    let v = app
        .get(Some(&admin), "/audit-events/verify")
        .await
        .expect(200);
    assert_eq!(
        v.body["intact"], true,
        "a shorter chain is intact on its own"
    );
    let v = app
        .post(
            Some(&admin),
            "/audit-events/verify",
            json!({"checkpoint": checkpoint}),
        )
        .await
        .expect(200);
    assert_eq!(v.body["intact"], false, "{}", v.text);
    assert_eq!(v.body["checkpoint_ok"], false);

    // a checkpoint edited to match is refused
    let mut forged = checkpoint.clone();
    forged["events"] = json!(2);
    forged["last_id"] = json!(all[1].id);
    forged["head_hash"] = json!(hex::encode(all[1].hash.as_ref().unwrap()));
    let r = app
        .post(
            Some(&admin),
            "/audit-events/verify",
            json!({"checkpoint": forged}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "checkpoint.signature");
    // and only administrators take or check checkpoints
    let sup = app.staff(Role::Supervisor).await;
    app.get(Some(&sup), "/audit-events/checkpoint")
        .await
        .expect_problem(403, "forbidden");
}

/// URL of the test's database for another login role.
fn url_as(app: &TestApp, role: &str, password: &str) -> String {
    let (scheme, rest) = app.db_url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{role}:{password}@{host}")
}

#[actix_web::test]
async fn the_serving_role_cannot_disable_the_trigger_or_rewrite_events() {
    let owner = TestApp::spawn().await;
    let role = format!("gwt_serve_{}", &Uuid::new_v4().simple().to_string()[..12]);
    let password = Uuid::new_v4().simple().to_string();
    owner
        .conn()
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE groupwork_app"
        ))
        .unwrap();
    let serving_url = url_as(&owner, &role, &password);
    {
        // the service runs as that role: migrations are up to date, requests work and are
        // audited
        assert_eq!(groupwork::db::migrate(&serving_url).unwrap(), 0);
        let app = TestApp::spawn_with(|s| s.database_url = serving_url.clone()).await;
        let admin = owner.staff(Role::Admin).await;
        let intake = owner.staff(Role::Intake).await;
        some_events(&app, &intake, 2).await;
        let v = app
            .get(Some(&admin), "/audit-events/verify")
            .await
            .expect(200);
        assert_eq!(v.body["events_checked"], 2, "{}", v.text);
        assert_eq!(v.body["intact"], true);
    }
    let mut conn = PgConnection::establish(&serving_url).unwrap();
    for sql in [
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update",
        "ALTER TABLE audit_events DISABLE TRIGGER ALL",
        "UPDATE audit_events SET action = 'x'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "DROP TRIGGER audit_events_no_update ON audit_events",
    ] {
        let err = conn.batch_execute(sql).unwrap_err().to_string();
        assert!(
            err.contains("must be owner") || err.contains("permission denied"),
            "{sql}: {err}"
        );
    }
    let count: i64 = {
        use groupwork::schema::audit_events as ae;
        ae::table.count().get_result(&mut conn).unwrap()
    };
    assert_eq!(count, 2, "reads are allowed, nothing was changed");
    drop(conn);
    drop(owner);
    let mut admin = PgConnection::establish(&std::env::var("DATABASE_URL").unwrap()).unwrap();
    let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {role}"));
}

fn seal(app: &TestApp, wait: std::time::Duration) -> usize {
    groupwork::audit::seal(&mut app.conn(), &app.state.settings.audit_key, wait).unwrap()
}

/// Issue 18: requests append their events unsealed, without a lock; the sealer links them in
/// position order, and never past a position whose transaction is still running: an event
/// committed after later ones is sealed in its place, not skipped.
#[actix_web::test]
async fn the_sealer_links_in_order_and_never_skips_an_event_committed_late() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let intake = app.staff(Role::Intake).await;
    let mut slow = app.conn();
    slow.batch_execute(
        "BEGIN; INSERT INTO audit_events (id, occurred_at, action, resource_type, outcome, request_id) \
         VALUES (gen_random_uuid(), now(), 'test.slow', 'test', 'allowed', 'slow')",
    )
    .unwrap();
    some_events(&app, &intake, 2).await;
    let all = events(&mut app.conn());
    assert_eq!(
        all.len(),
        2,
        "the open transaction's event is not visible yet"
    );
    assert!(all.iter().all(|e| e.hash.is_none()), "appended unsealed");
    assert_eq!(
        seal(&app, std::time::Duration::from_millis(200)),
        0,
        "an earlier position is still open: nothing is sealed past it"
    );
    slow.batch_execute("COMMIT").unwrap();
    assert_eq!(seal(&app, std::time::Duration::from_secs(15)), 3);
    let all = events(&mut app.conn());
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].action, "test.slow", "sealed at its own position");
    assert!(all.iter().all(|e| e.hash.is_some()));
    let v = app
        .get(Some(&admin), "/audit-events/verify")
        .await
        .expect(200);
    assert_eq!(v.body["intact"], true, "{}", v.text);
    assert_eq!(v.body["events_checked"], 3);
    assert_eq!(v.body["unsealed_events"], 0);
    assert_eq!(
        seal(&app, std::time::Duration::from_secs(1)),
        0,
        "nothing left"
    );
}

/// Sealing is the one change the trigger allows: hashes written once, on an event that has
/// none, nothing else changed. An event left unsealed inside the sealed chain breaks it.
#[actix_web::test]
async fn sealing_is_once_only_and_an_unsealed_event_inside_the_chain_breaks_it() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let intake = app.staff(Role::Intake).await;
    some_events(&app, &intake, 2).await;
    let unsealed = events(&mut app.conn());
    let mut conn = app.conn();
    let err = conn
        .batch_execute(&format!(
            "UPDATE audit_events SET prev_hash = '\\x00', hash = '\\x00', action = 'x' WHERE seq = {}",
            unsealed[0].seq
        ))
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert_eq!(seal(&app, std::time::Duration::from_secs(15)), 2);
    let err = conn
        .batch_execute(&format!(
            "UPDATE audit_events SET prev_hash = '\\x00', hash = '\\x00' WHERE seq = {}",
            unsealed[0].seq
        ))
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");

    some_events(&app, &intake, 1).await;
    assert_eq!(seal(&app, std::time::Duration::from_secs(15)), 1);
    let all = events(&mut app.conn());
    as_owner_without_trigger(
        &app,
        &format!(
            "UPDATE audit_events SET prev_hash = NULL, hash = NULL WHERE seq = {}",
            all[1].seq
        ),
    );
    let v = app
        .get(Some(&admin), "/audit-events/verify")
        .await
        .expect(200);
    assert_eq!(v.body["intact"], false, "{}", v.text);
    assert_eq!(v.body["first_broken_id"], all[1].id.to_string());
}

/// Issue 18: the background sealer's round skips the work while no position was handed out
/// since its last complete round, and never remembers a round that had to stop short: an event
/// committed late is still sealed by a later round.
#[actix_web::test]
async fn the_sealer_round_skips_only_when_nothing_new_was_appended() {
    use groupwork::audit::{seal_round, SealedThrough};
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let key = app.state.settings.audit_key;
    let short = std::time::Duration::from_millis(200);
    let long = std::time::Duration::from_secs(15);
    let mut known = SealedThrough::default();
    let mut conn = app.conn();
    // the staff fixtures may have written events: start from a sealed chain
    seal_round(&mut conn, &key, long, &mut known).unwrap();
    some_events(&app, &intake, 2).await;
    assert_eq!(seal_round(&mut conn, &key, long, &mut known).unwrap(), 2);
    assert_eq!(seal_round(&mut conn, &key, long, &mut known).unwrap(), 0);

    let mut slow = app.conn();
    slow.batch_execute(
        "BEGIN; INSERT INTO audit_events (id, occurred_at, action, resource_type, outcome, request_id) \
         VALUES (gen_random_uuid(), now(), 'test.slow', 'test', 'allowed', 'slow')",
    )
    .unwrap();
    some_events(&app, &intake, 1).await;
    assert_eq!(
        seal_round(&mut conn, &key, short, &mut known).unwrap(),
        0,
        "an earlier position is still open"
    );
    slow.batch_execute("COMMIT").unwrap();
    assert_eq!(
        seal_round(&mut conn, &key, long, &mut known).unwrap(),
        2,
        "the round that stopped short was not remembered as complete"
    );
    assert!(events(&mut app.conn()).iter().all(|e| e.hash.is_some()));
    assert_eq!(seal_round(&mut conn, &key, long, &mut known).unwrap(), 0);
}

/// Issue 18: an audited read runs without a transaction and appends its events in one statement
/// after it: they are there once it returns, and a read that fails appends none, as a
/// transaction rolled back would.
#[actix_web::test]
async fn an_audited_read_appends_its_events_after_it_or_none() {
    use groupwork::audit::buffer::read_then_append;
    use groupwork::audit::AuditCtx;
    use groupwork::error::AppError;
    let app = TestApp::spawn().await;
    let ctx = AuditCtx {
        actor_id: None,
        actor_role: None,
        request_id: "audited-read".into(),
        ip: None,
    };
    let mut conn = app.conn();
    let before = events(&mut conn).len();
    let failed: Result<(), AppError> = read_then_append(&mut conn, |conn| {
        ctx.allowed(conn, "test.read", "test", None, json!({}))?;
        Err(AppError::NotFound)
    });
    assert!(failed.is_err());
    assert_eq!(
        events(&mut conn).len(),
        before,
        "a failed read appends nothing"
    );
    let n: i64 = read_then_append(&mut conn, |conn| {
        ctx.allowed(conn, "test.read", "test", None, json!({"n": 1}))?;
        ctx.denied(conn, "test.read", "test", None, json!({"n": 2}))?;
        // not inside a transaction: nothing to commit afterwards
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        let depth = AnsiTransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth()
            .unwrap();
        assert_eq!(depth, None, "each statement commits on its own");
        Ok(2)
    })
    .unwrap();
    let all = events(&mut app.conn());
    assert_eq!(all.len(), before + n as usize, "both, committed");
    assert_eq!(all[before].action, "test.read");
    assert!(
        all[before].seq < all[before + 1].seq,
        "in the order recorded"
    );
}
