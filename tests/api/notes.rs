//! Issue 7: notes — lifecycle and its 409s, co-signing, addenda, ETags, races, the role and
//! scope matrix with its audit trail, encryption at rest, tampering, the database's guards.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use futures::future::join_all;
use groupwork::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

pub struct Setup {
    pub app: TestApp,
    pub lead: TestUser,
    pub sup: TestUser,
    pub group: Uuid,
    pub session: Uuid,
    pub member: Uuid,
    pub other_member: Uuid,
}

/// An active group led by `lead`, two members seated at a session held yesterday.
pub async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let lead = app.staff(Role::Therapist).await;
    let sup = app.staff(Role::Supervisor).await;
    let group = fixtures::group(&app, lead.id).status("active").create();
    let c = fixtures::contract(&app, group, 1, sup.id);
    let joined = Utc::now() - Duration::days(30);
    let (member, _) = fixtures::active_member(&app, group, c, sup.id, joined);
    let (other_member, _) = fixtures::active_member(&app, group, c, sup.id, joined);
    let session = fixtures::session(&app, group, 1, Utc::now() - Duration::days(1), "held");
    Setup {
        app,
        lead,
        sup,
        group,
        session,
        member,
        other_member,
    }
}

pub const GROUP_NOTE: &str = "SECRET-THEME-shame-and-belonging";
pub const MEMBER_NOTE: &str = "SECRET-CONTENT-spoke-about-relapse";

pub fn group_body() -> Value {
    json!({"themes": GROUP_NOTE, "group_process": "cohesion rising", "interventions": "here-and-now", "plan": "continue"})
}

pub fn member_body() -> Value {
    json!({"participation": "active", "progress": "engaged", "risk_flags": ["relapse"], "content": MEMBER_NOTE})
}

impl Setup {
    fn gpath(&self) -> String {
        format!("/sessions/{}/group-note", self.session)
    }

    fn mpath(&self, membership: Uuid) -> String {
        format!("/sessions/{}/member-notes/{membership}", self.session)
    }

    async fn post(&self, who: &TestUser, path: &str, body: Value) -> crate::helpers::Resp {
        self.app.post(Some(who), path, body).await
    }
}

fn reasons(app: &TestApp, action: &str) -> Vec<String> {
    app.audit_actions(action)
        .into_iter()
        .filter(|e| e.1 == "denied")
        .map(|e| e.3["reason"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[actix_web::test]
async fn group_note_lifecycle() {
    let s = setup().await;
    let path = s.gpath();
    s.app
        .get(Some(&s.lead), &path)
        .await
        .expect_problem(404, "not_found");
    let r = s
        .app
        .put(Some(&s.lead), &path, group_body())
        .await
        .expect(201);
    assert_eq!(r.body["status"], "draft");
    assert_eq!(r.body["kind"], "group");
    assert_eq!(r.body["themes"], GROUP_NOTE);
    assert_eq!(r.body["author_id"], s.lead.id.to_string());
    assert_eq!(r.header("etag").as_deref(), Some("\"v1\""));
    let mut edited = group_body();
    edited["plan"] = json!("revisit conflict next week");
    let r = s.app.put(Some(&s.lead), &path, edited).await.expect(200);
    assert_eq!(r.body["plan"], "revisit conflict next week");
    assert_eq!(r.header("etag").as_deref(), Some("\"v2\""));
    // only the author edits or signs a draft, a supervisor included
    s.app
        .put(Some(&s.sup), &path, group_body())
        .await
        .expect_problem(403, "forbidden");
    s.post(&s.sup, &format!("{path}/sign"), json!({}))
        .await
        .expect_problem(403, "forbidden");
    // co-signing and addenda wait for the signature
    s.post(&s.sup, &format!("{path}/cosign"), json!({}))
        .await
        .expect_problem(409, "conflict");
    s.post(&s.lead, &format!("{path}/addenda"), json!({"content": "x"}))
        .await
        .expect_problem(409, "conflict");
    let r = s
        .post(&s.lead, &format!("{path}/sign"), json!({}))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "signed");
    assert_eq!(r.body["signed_by"], s.lead.id.to_string());
    assert!(r.body["signed_at"].is_string());
    assert_eq!(r.body["plan"], "revisit conflict next week");
    s.app
        .put(Some(&s.lead), &path, group_body())
        .await
        .expect_problem(409, "note_signed");
    s.post(&s.lead, &format!("{path}/sign"), json!({}))
        .await
        .expect_problem(409, "note_signed");
    // co-signing: supervisors only
    s.post(&s.lead, &format!("{path}/cosign"), json!({}))
        .await
        .expect_problem(403, "forbidden");
    let r = s
        .post(&s.sup, &format!("{path}/cosign"), json!({}))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "cosigned");
    assert_eq!(r.body["cosigned_by"], s.sup.id.to_string());
    s.post(&s.sup, &format!("{path}/cosign"), json!({}))
        .await
        .expect_problem(409, "conflict");
    s.app
        .put(Some(&s.sup), &path, group_body())
        .await
        .expect_problem(409, "note_signed");
    // addenda: append-only, authored, timestamped, in order
    for (who, text) in [(&s.lead, "first"), (&s.sup, "second"), (&s.lead, "third")] {
        let r = s
            .post(who, &format!("{path}/addenda"), json!({"content": text}))
            .await
            .expect(201);
        assert_eq!(
            r.body["addenda"].as_array().unwrap().last().unwrap()["content"],
            text
        );
    }
    s.post(&s.sup, &format!("{path}/addenda"), json!({"content": "  "}))
        .await
        .expect_invalid("content");
    let r = s.app.get(Some(&s.lead), &path).await.expect(200);
    let addenda = r.body["addenda"].as_array().unwrap();
    let texts: Vec<&str> = addenda
        .iter()
        .map(|a| a["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, vec!["first", "second", "third"]);
    assert_eq!(addenda[1]["author_id"], s.sup.id.to_string());
    let times: Vec<&str> = addenda
        .iter()
        .map(|a| a["created_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(r.body["themes"], GROUP_NOTE, "signed content unchanged");
    assert_eq!(r.body["status"], "cosigned");
    // each change of the note as shown gave it a new ETag: 2 writes, sign, cosign, 3 addenda
    assert_eq!(r.header("etag").as_deref(), Some("\"v7\""));
}

async fn put_if_match(s: &Setup, path: &str, tag: &str, body: Value) -> crate::helpers::Resp {
    let req = s.app.client.put(s.app.url(path)).bearer_auth(&s.lead.token);
    s.app.send(req.header("if-match", tag).json(&body)).await
}

#[actix_web::test]
async fn if_match_guards_draft_edits() {
    let s = setup().await;
    let path = s.mpath(s.member);
    let r = s
        .app
        .put(Some(&s.lead), &path, member_body())
        .await
        .expect(201);
    let tag = r.header("etag").unwrap();
    let minimal = json!({"participation": "minimal"});
    put_if_match(&s, &path, "\"v7\"", minimal.clone())
        .await
        .expect_problem(412, "precondition_failed");
    let r = put_if_match(&s, &path, &tag, minimal).await.expect(200);
    assert_eq!(r.body["participation"], "minimal");
    assert_eq!(r.body["content"], "", "a PUT replaces every field");
    assert_eq!(r.header("etag").as_deref(), Some("\"v2\""));
    // a tag cannot match a note not yet written
    let other = s.mpath(s.other_member);
    put_if_match(&s, &other, "\"v1\"", member_body())
        .await
        .expect_problem(412, "precondition_failed");
    s.app
        .get(Some(&s.lead), &other)
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn member_note_rules() {
    let s = setup().await;
    let path = s.mpath(s.member);
    let r = s
        .app
        .put(Some(&s.sup), &path, member_body())
        .await
        .expect(201);
    assert_eq!(r.body["kind"], "member");
    assert_eq!(r.body["participation"], "active");
    assert_eq!(r.body["progress"], "engaged");
    assert_eq!(r.body["risk_flags"], json!(["relapse"]));
    assert_eq!(r.body["content"], MEMBER_NOTE);
    assert_eq!(r.body["membership_id"], s.member.to_string());
    for (field, value) in [
        ("participation", json!("loud")),
        ("risk_flags", json!(["bored"])),
        ("risk_flags", json!(["relapse", "relapse"])),
        ("content", json!("x".repeat(20_001))),
    ] {
        let mut bad = member_body();
        bad[field] = value;
        let r = s
            .app
            .put(Some(&s.sup), &path, bad)
            .await
            .expect_problem(422, "validation_failed");
        assert!(r.text.contains(field), "{}", r.text);
    }
    // only for a membership seated at that session: unknown, signed after it, another group's
    let c = fixtures::contract(&s.app, s.group, 2, s.sup.id);
    let (late_joiner, _) = fixtures::active_member(&s.app, s.group, c, s.sup.id, Utc::now());
    let other_group = fixtures::group(&s.app, s.lead.id).status("active").create();
    let oc = fixtures::contract(&s.app, other_group, 1, s.sup.id);
    let (elsewhere, _) = fixtures::active_member(
        &s.app,
        other_group,
        oc,
        s.sup.id,
        Utc::now() - Duration::days(30),
    );
    for m in [Uuid::new_v4(), late_joiner, elsewhere] {
        s.app
            .put(Some(&s.sup), &s.mpath(m), member_body())
            .await
            .expect_invalid("membership_id");
    }
    // only for sessions that began and were not cancelled
    let future = fixtures::session(
        &s.app,
        s.group,
        2,
        Utc::now() + Duration::days(3),
        "scheduled",
    );
    let cancelled = fixtures::session(
        &s.app,
        s.group,
        3,
        Utc::now() - Duration::days(8),
        "cancelled",
    );
    s.app
        .put(
            Some(&s.sup),
            &format!("/sessions/{future}/member-notes/{}", s.member),
            member_body(),
        )
        .await
        .expect_problem(409, "session_not_started");
    s.app
        .put(
            Some(&s.sup),
            &format!("/sessions/{cancelled}/group-note"),
            group_body(),
        )
        .await
        .expect_problem(409, "session_cancelled");
    s.app
        .put(
            Some(&s.sup),
            &format!("/sessions/{}/group-note", Uuid::new_v4()),
            group_body(),
        )
        .await
        .expect_problem(404, "not_found");
    // a supervisor's own note: signed by them, never co-signed by them
    s.post(&s.sup, &format!("{path}/sign"), json!({}))
        .await
        .expect(200);
    s.app
        .put(Some(&s.sup), &path, member_body())
        .await
        .expect_problem(409, "note_signed");
    s.post(&s.sup, &format!("{path}/cosign"), json!({}))
        .await
        .expect_problem(409, "conflict");
    let other_sup = s.app.staff(Role::Supervisor).await;
    let r = s
        .post(&other_sup, &format!("{path}/cosign"), json!({}))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "cosigned");
    // the other member's note is another note
    s.app
        .get(Some(&s.sup), &s.mpath(s.other_member))
        .await
        .expect_problem(404, "not_found");
}

/// Every role on every note endpoint: admin and intake 403, a therapist of another group 404,
/// a co-therapist allowed; each decision audited, without content.
#[actix_web::test]
async fn role_and_scope_matrix_with_audit() {
    let s = setup().await;
    let co = s.app.staff(Role::Therapist).await;
    diesel::update(groupwork::schema::groups::table.find(s.group))
        .set(groupwork::schema::groups::co_therapist_ids.eq(vec![co.id]))
        .execute(&mut s.app.conn())
        .unwrap();
    let (g, m) = (s.gpath(), s.mpath(s.member));
    s.app.put(Some(&s.lead), &g, group_body()).await.expect(201);
    s.app
        .put(Some(&s.lead), &m, member_body())
        .await
        .expect(201);
    let endpoints: Vec<(&str, String, Value, &str)> = [&g, &m]
        .into_iter()
        .flat_map(|p| {
            let body = if *p == g { group_body() } else { member_body() };
            vec![
                ("GET", p.clone(), Value::Null, "note.read"),
                ("PUT", p.clone(), body, "note.write"),
                ("POST", format!("{p}/sign"), json!({}), "note.sign"),
                ("POST", format!("{p}/cosign"), json!({}), "note.cosign"),
                (
                    "POST",
                    format!("{p}/addenda"),
                    json!({"content": "x"}),
                    "note.addendum",
                ),
            ]
        })
        .collect();
    let admin = s.app.staff(Role::Admin).await;
    let intake = s.app.staff(Role::Intake).await;
    let stranger = s.app.staff(Role::Therapist).await;
    let call = |u: &TestUser, method: &str, path: &str, body: &Value| {
        let (u, path, body, method) = (
            u.clone(),
            path.to_string(),
            body.clone(),
            method.to_string(),
        );
        let app = &s.app;
        async move {
            match method.as_str() {
                "GET" => app.get(Some(&u), &path).await,
                "PUT" => app.put(Some(&u), &path, body).await,
                _ => app.post(Some(&u), &path, body).await,
            }
        }
    };
    for (method, path, body, _) in &endpoints {
        for u in [&admin, &intake] {
            let r = call(u, method, path, body).await;
            assert!(!r.text.contains("SECRET"));
            r.expect_problem(403, "forbidden");
        }
        let r = call(&stranger, method, path, body).await;
        // co-signing is the supervisor's: a therapist's role never may (403 before scope)
        if path.ends_with("/cosign") {
            r.expect_problem(403, "forbidden");
        } else {
            assert!(!r.text.contains("SECRET"));
            r.expect_problem(404, "not_found");
        }
    }
    let mut refused_by_role = 0;
    for action in [
        "note.read",
        "note.write",
        "note.sign",
        "note.cosign",
        "note.addendum",
    ] {
        let denied = reasons(&s.app, action);
        // two endpoints each: admin and intake refused by role (at the gate, recorded there
        // once: never as a `note.*` event too); the stranger out of scope, except for
        // co-signing, which a therapist's role never may
        let (by_role, out_of_scope) = if action == "note.cosign" {
            (6, 0)
        } else {
            (4, 2)
        };
        refused_by_role += by_role;
        let count = |reason: &str| denied.iter().filter(|r| *r == reason).count();
        assert_eq!(count("out_of_scope"), out_of_scope, "{action}: {denied:?}");
        assert_eq!(denied.len(), out_of_scope, "{action}: {denied:?}");
    }
    let forbidden = s.app.audit_actions("access.forbidden");
    assert_eq!(
        forbidden.len(),
        refused_by_role,
        "each role refusal recorded once"
    );
    assert!(forbidden
        .iter()
        .all(|(_, outcome, _, d)| outcome == "denied"
            && matches!(
                d["permission"].as_str(),
                Some("read_notes" | "write_notes" | "cosign_note")
            )));
    // the co-therapist reads both; the lead and supervisors too
    for u in [&co, &s.lead, &s.sup] {
        let r = s.app.get(Some(u), &g).await.expect(200);
        assert_eq!(r.body["themes"], GROUP_NOTE);
        let r = s.app.get(Some(u), &m).await.expect(200);
        assert_eq!(r.body["content"], MEMBER_NOTE);
    }
    let reads = s.app.audit_actions("note.read");
    let allowed: Vec<_> = reads.iter().filter(|r| r.1 == "allowed").collect();
    assert_eq!(allowed.len(), 6);
    assert!(allowed.iter().all(|r| r.2.is_some()), "names the note");
    assert_eq!(
        s.app
            .audit_actions("note.write")
            .iter()
            .filter(|r| r.1 == "allowed")
            .count(),
        2
    );
    let all: Vec<Value> = {
        use groupwork::schema::audit_events as ae;
        ae::table
            .select(ae::details)
            .load(&mut s.app.conn())
            .unwrap()
    };
    for d in &all {
        let d = d.to_string();
        for secret in ["SECRET", "cohesion", "engaged", "here-and-now"] {
            assert!(!d.contains(secret), "content in the audit trail: {d}");
        }
    }
}

#[actix_web::test]
async fn refusals_are_audited_and_leave_nothing_written() {
    let s = setup().await;
    let g = s.gpath();
    s.app.put(Some(&s.lead), &g, group_body()).await.expect(201);
    s.post(
        &s.lead,
        &format!("{g}/addenda"),
        json!({"content": "too early"}),
    )
    .await
    .expect_problem(409, "conflict");
    s.post(&s.lead, &format!("{g}/sign"), json!({}))
        .await
        .expect(200);
    s.app
        .put(Some(&s.lead), &g, group_body())
        .await
        .expect_problem(409, "note_signed");
    s.app
        .get(
            Some(&s.lead),
            &format!("/sessions/{}/group-note", Uuid::new_v4()),
        )
        .await
        .expect_problem(404, "not_found");
    assert_eq!(reasons(&s.app, "note.write"), vec!["note_signed"]);
    assert_eq!(reasons(&s.app, "note.addendum"), vec!["conflict"]);
    assert_eq!(reasons(&s.app, "note.read"), vec!["not_found"]);

    // an addendum to a note that no longer decrypts is refused whole: no addendum row stays
    diesel::sql_query(format!(
        "UPDATE group_notes SET key_id = '00000000deadbeef' WHERE session_id = '{}'",
        s.session
    ))
    .execute(&mut s.app.conn())
    .unwrap();
    s.post(
        &s.lead,
        &format!("{g}/addenda"),
        json!({"content": "lost?"}),
    )
    .await
    .expect_problem(409, "note_undecryptable");
    s.post(&s.sup, &format!("{g}/cosign"), json!({}))
        .await
        .expect_problem(409, "note_undecryptable");
    let addenda: i64 = groupwork::schema::note_addenda::table
        .count()
        .get_result(&mut s.app.conn())
        .unwrap();
    assert_eq!(addenda, 0);
    let status: String = groupwork::schema::group_notes::table
        .select(groupwork::schema::group_notes::status)
        .first(&mut s.app.conn())
        .unwrap();
    assert_eq!(status, "signed", "the co-signature was rolled back");
    let failures = s.app.audit_actions("note.decrypt_failed");
    assert_eq!(failures.len(), 2);
    assert!(failures
        .iter()
        .all(|f| f.1 == "denied" && f.3["reason"] == "unknown_key"));
    assert_eq!(failures[0].3["attempted"], "note.addendum");
    assert_eq!(failures[1].3["attempted"], "note.cosign");
}

#[actix_web::test]
async fn concurrent_writers_signers_and_cosigners() {
    let s = setup().await;
    let m = s.mpath(s.member);
    let writes = join_all((0..8).map(|i| {
        let mut body = member_body();
        body["progress"] = json!(format!("writer {i}"));
        s.app.put(Some(&s.lead), &m, body)
    }))
    .await;
    let mut statuses: Vec<u16> = writes.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(
        statuses,
        vec![200, 200, 200, 200, 200, 200, 200, 201],
        "one creates, the rest edit"
    );
    let count: i64 = groupwork::schema::member_notes::table
        .count()
        .get_result(&mut s.app.conn())
        .unwrap();
    assert_eq!(count, 1);
    let r = s.app.get(Some(&s.lead), &m).await.expect(200);
    assert_eq!(
        r.header("etag").as_deref(),
        Some("\"v8\""),
        "eight versions, none lost"
    );

    let (sign, cosign, addenda) = (
        format!("{m}/sign"),
        format!("{m}/cosign"),
        format!("{m}/addenda"),
    );
    let signs = join_all((0..6).map(|_| s.post(&s.lead, &sign, json!({})))).await;
    assert_eq!(signs.iter().filter(|r| r.status == 200).count(), 1);
    assert!(signs
        .iter()
        .filter(|r| r.status != 200)
        .all(|r| r.status == 409 && r.body["code"] == "note_signed"));

    let sup2 = s.app.staff(Role::Supervisor).await;
    let cosigns = join_all(
        [&s.sup, &sup2, &s.sup, &sup2]
            .into_iter()
            .map(|u| s.post(u, &cosign, json!({}))),
    )
    .await;
    assert_eq!(cosigns.iter().filter(|r| r.status == 200).count(), 1);
    assert!(cosigns
        .iter()
        .filter(|r| r.status != 200)
        .all(|r| r.status == 409));
    let adds =
        join_all((0..5).map(|i| s.post(&s.lead, &addenda, json!({"content": format!("a{i}")}))))
            .await;
    assert!(adds.iter().all(|r| r.status == 201));
    let r = s.app.get(Some(&s.sup), &m).await.expect(200);
    assert_eq!(r.body["addenda"].as_array().unwrap().len(), 5);
}

#[derive(QueryableByName)]
struct RowText {
    #[diesel(sql_type = diesel::sql_types::Text)]
    row: String,
}

#[actix_web::test]
async fn the_database_never_holds_plaintext() {
    let s = setup().await;
    let (g, m) = (s.gpath(), s.mpath(s.member));
    s.app.put(Some(&s.lead), &g, group_body()).await.expect(201);
    s.app
        .put(Some(&s.lead), &m, member_body())
        .await
        .expect(201);
    s.post(&s.lead, &format!("{g}/sign"), json!({}))
        .await
        .expect(200);
    s.post(
        &s.lead,
        &format!("{g}/addenda"),
        json!({"content": "SECRET-ADDENDUM"}),
    )
    .await
    .expect(201);
    let mut conn = s.app.conn();
    for table in ["group_notes", "member_notes", "note_addenda"] {
        let rows: Vec<RowText> =
            diesel::sql_query(format!("SELECT row_to_json(t)::text AS row FROM {table} t"))
                .load(&mut conn)
                .unwrap();
        assert_eq!(rows.len(), 1, "{table}");
        for r in rows {
            for secret in [
                "SECRET",
                "relapse",
                "cohesion",
                "engaged",
                "here-and-now",
                "active",
            ] {
                assert!(!r.row.contains(secret), "{table} holds {secret}: {}", r.row);
            }
        }
    }
    // the same content written twice is sealed under different nonces
    let mut again = member_body();
    again["progress"] = json!("engaged");
    s.app.put(Some(&s.lead), &m, again).await.expect(200);
    s.app
        .put(Some(&s.lead), &s.mpath(s.other_member), member_body())
        .await
        .expect(201);
    let sealed: Vec<(Vec<u8>, Vec<u8>)> = {
        use groupwork::schema::member_notes as mn;
        mn::table
            .select((mn::nonce, mn::ciphertext))
            .load(&mut conn)
            .unwrap()
    };
    assert_eq!(sealed.len(), 2);
    assert_ne!(sealed[0].0, sealed[1].0);
    assert_ne!(sealed[0].1, sealed[1].1);
    assert!(sealed.iter().all(|(n, _)| n.len() == 12));
}

#[actix_web::test]
async fn tampered_or_moved_ciphertexts_fail_cleanly() {
    let s = setup().await;
    let (a, b) = (s.mpath(s.member), s.mpath(s.other_member));
    s.app
        .put(Some(&s.lead), &a, member_body())
        .await
        .expect(201);
    s.app
        .put(
            Some(&s.lead),
            &b,
            json!({"participation": "minimal", "content": "other"}),
        )
        .await
        .expect(201);
    s.app
        .put(Some(&s.lead), &s.gpath(), group_body())
        .await
        .expect(201);
    let mut conn = s.app.conn();
    // A's ciphertext copied onto B's row (a draft: the database's guard lets drafts change)
    diesel::sql_query(format!(
        "UPDATE member_notes SET nonce = a.nonce, ciphertext = a.ciphertext, key_id = a.key_id \
         FROM member_notes a WHERE a.membership_id = '{}' AND member_notes.membership_id = '{}'",
        s.member, s.other_member
    ))
    .execute(&mut conn)
    .unwrap();
    let r = s
        .app
        .get(Some(&s.lead), &b)
        .await
        .expect_problem(409, "note_undecryptable");
    assert!(!r.text.contains("SECRET"));
    // A's member-note ciphertext moved onto the group note of the same session
    diesel::sql_query(format!(
        "UPDATE group_notes SET nonce = a.nonce, ciphertext = a.ciphertext \
         FROM member_notes a WHERE a.membership_id = '{}' AND group_notes.session_id = '{}'",
        s.member, s.session
    ))
    .execute(&mut conn)
    .unwrap();
    s.app
        .get(Some(&s.sup), &s.gpath())
        .await
        .expect_problem(409, "note_undecryptable");
    // one byte of A's own ciphertext flipped
    diesel::sql_query(format!(
        // XOR, so the byte changes whatever it was (writing 0x00 left it as it was, 1 in 256)
        "UPDATE member_notes SET ciphertext = set_byte(ciphertext, 2, get_byte(ciphertext, 2) # 255) WHERE membership_id = '{}'",
        s.member
    ))
    .execute(&mut conn)
    .unwrap();
    s.app
        .get(Some(&s.lead), &a)
        .await
        .expect_problem(409, "note_undecryptable");
    let failures = s.app.audit_actions("note.decrypt_failed");
    assert_eq!(failures.len(), 3);
    assert!(failures.iter().all(|f| f.1 == "denied"
        && f.3["reason"] == "tampered"
        && f.3["attempted"] == "note.read"));
    assert!(failures.iter().all(|f| f.2.is_some()), "names the note");
    // the failed reads left no allowed read behind
    assert!(s
        .app
        .audit_actions("note.read")
        .iter()
        .all(|e| e.1 != "allowed"));
}

#[actix_web::test]
async fn the_database_guards_signed_notes_and_addenda() {
    let s = setup().await;
    let g = s.gpath();
    s.app.put(Some(&s.lead), &g, group_body()).await.expect(201);
    s.post(&s.lead, &format!("{g}/sign"), json!({}))
        .await
        .expect(200);
    s.post(
        &s.lead,
        &format!("{g}/addenda"),
        json!({"content": "later"}),
    )
    .await
    .expect(201);
    s.app
        .put(Some(&s.lead), &s.mpath(s.member), member_body())
        .await
        .expect(201);
    let mut conn = s.app.conn();
    let refused = |conn: &mut PgConnection, sql: &str| {
        let e = diesel::sql_query(sql)
            .execute(conn)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("immutable")
                || e.contains("never")
                || e.contains("append-only")
                || e.contains("follows"),
            "{sql}: {e}"
        );
    };
    refused(
        &mut conn,
        "UPDATE group_notes SET ciphertext = ciphertext || '\\x00'::bytea",
    );
    refused(&mut conn, "UPDATE group_notes SET status = 'draft'");
    refused(
        &mut conn,
        "UPDATE group_notes SET signed_at = now() - interval '1 day'",
    );
    refused(
        &mut conn,
        &format!("UPDATE group_notes SET author_id = '{}'", s.sup.id),
    );
    refused(&mut conn, "DELETE FROM group_notes");
    refused(&mut conn, "DELETE FROM member_notes");
    refused(&mut conn, "TRUNCATE note_addenda");
    refused(&mut conn, "DELETE FROM note_addenda");
    refused(
        &mut conn,
        "UPDATE note_addenda SET ciphertext = ciphertext || '\\x00'::bytea",
    );
    refused(
        &mut conn,
        &format!(
            "UPDATE member_notes SET membership_id = '{}'",
            s.other_member
        ),
    );
    refused(
        &mut conn,
        "INSERT INTO note_addenda (id, note_kind, note_id, author_id, key_id, nonce, ciphertext) \
         SELECT gen_random_uuid(), 'member', id, author_id, key_id, nonce, ciphertext FROM member_notes",
    );
    // a draft still changes, and the API still reads everything
    diesel::sql_query("UPDATE member_notes SET updated_at = now()")
        .execute(&mut conn)
        .unwrap();
    let r = s.app.get(Some(&s.sup), &g).await.expect(200);
    assert_eq!(r.body["addenda"][0]["content"], "later");
    assert_eq!(r.body["themes"], GROUP_NOTE);
}
