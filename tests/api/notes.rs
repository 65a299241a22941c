//! Issue 7: notes — lifecycle and its 409s, co-signing, addenda, access, encryption at rest,
//! tampering, key rotation.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use groupwork::auth::Role;
use groupwork::notes::crypto::{key_id, NotesCipher};
use serde_json::json;
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

struct Setup {
    app: TestApp,
    lead: TestUser,
    sup: TestUser,
    session: Uuid,
    member: Uuid,
    other_member: Uuid,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let lead = app.staff(Role::Therapist).await;
    let sup = app.staff(Role::Supervisor).await;
    let g = fixtures::group(&app, lead.id).status("active").create();
    let c = fixtures::contract(&app, g, 1, sup.id);
    let (member, _) = fixtures::active_member(&app, g, c, sup.id, Utc::now() - Duration::days(30));
    let (other_member, _) =
        fixtures::active_member(&app, g, c, sup.id, Utc::now() - Duration::days(30));
    let session = fixtures::session(&app, g, 1, Utc::now() - Duration::days(1), "held");
    Setup {
        app,
        lead,
        sup,
        session,
        member,
        other_member,
    }
}

const GROUP_NOTE: &str = "SECRET-THEME-shame-and-belonging";
const MEMBER_NOTE: &str = "SECRET-CONTENT-spoke-about-relapse";

fn group_body() -> serde_json::Value {
    json!({"themes": GROUP_NOTE, "group_process": "cohesion rising", "interventions": "here-and-now", "plan": "continue"})
}

fn member_body() -> serde_json::Value {
    json!({"participation": "active", "progress": "engaged", "risk_flags": ["relapse"], "content": MEMBER_NOTE})
}

#[actix_web::test]
async fn group_note_lifecycle() {
    let s = setup().await;
    let path = format!("/sessions/{}/group-note", s.session);
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
    assert_eq!(r.body["themes"], GROUP_NOTE);
    let mut edited = group_body();
    edited["plan"] = json!("revisit conflict next week");
    let r = s.app.put(Some(&s.lead), &path, edited).await.expect(200);
    assert_eq!(r.body["plan"], "revisit conflict next week");
    // only the author edits or signs a draft
    s.app
        .put(Some(&s.sup), &path, group_body())
        .await
        .expect_problem(403, "forbidden");
    s.app
        .post(Some(&s.sup), &format!("{path}/sign"), json!({}))
        .await
        .expect_problem(403, "forbidden");
    s.app
        .post(Some(&s.sup), &format!("{path}/cosign"), json!({}))
        .await
        .expect_problem(409, "conflict");
    s.app
        .post(
            Some(&s.lead),
            &format!("{path}/addenda"),
            json!({"content": "x"}),
        )
        .await
        .expect_problem(409, "conflict");
    let r = s
        .app
        .post(Some(&s.lead), &format!("{path}/sign"), json!({}))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "signed");
    assert_eq!(r.body["signed_by"], s.lead.id.to_string());
    s.app
        .put(Some(&s.lead), &path, group_body())
        .await
        .expect_problem(409, "note_signed");
    s.app
        .post(Some(&s.lead), &format!("{path}/sign"), json!({}))
        .await
        .expect_problem(409, "note_signed");
    s.app
        .post(Some(&s.lead), &format!("{path}/cosign"), json!({}))
        .await
        .expect_problem(403, "forbidden");
    let r = s
        .app
        .post(Some(&s.sup), &format!("{path}/cosign"), json!({}))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "cosigned");
    s.app
        .post(Some(&s.sup), &format!("{path}/cosign"), json!({}))
        .await
        .expect_problem(409, "conflict");
    s.app
        .post(
            Some(&s.lead),
            &format!("{path}/addenda"),
            json!({"content": "first"}),
        )
        .await
        .expect(201);
    s.app
        .post(
            Some(&s.sup),
            &format!("{path}/addenda"),
            json!({"content": "second"}),
        )
        .await
        .expect(201);
    s.app
        .post(
            Some(&s.sup),
            &format!("{path}/addenda"),
            json!({"content": "  "}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let r = s.app.get(Some(&s.lead), &path).await.expect(200);
    let addenda = r.body["addenda"].as_array().unwrap();
    assert_eq!(
        addenda
            .iter()
            .map(|a| a["content"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["first", "second"]
    );
    assert_eq!(addenda[1]["author_id"], s.sup.id.to_string());
    assert!(addenda[0]["created_at"].is_string());
    assert_eq!(r.body["themes"], GROUP_NOTE, "signed content unchanged");
}

#[actix_web::test]
async fn member_note_rules() {
    let s = setup().await;
    let path = format!("/sessions/{}/member-notes/{}", s.session, s.member);
    let r = s
        .app
        .put(Some(&s.sup), &path, member_body())
        .await
        .expect(201);
    assert_eq!(r.body["participation"], "active");
    assert_eq!(r.body["risk_flags"], json!(["relapse"]));
    assert_eq!(r.body["membership_id"], s.member.to_string());
    let mut bad = member_body();
    bad["participation"] = json!("loud");
    s.app
        .put(Some(&s.sup), &path, bad)
        .await
        .expect_problem(422, "validation_failed");
    let mut bad = member_body();
    bad["risk_flags"] = json!(["bored"]);
    s.app
        .put(Some(&s.sup), &path, bad)
        .await
        .expect_problem(422, "validation_failed");
    // a membership not seated at that session
    let stranger = Uuid::new_v4();
    let r = s
        .app
        .put(
            Some(&s.sup),
            &format!("/sessions/{}/member-notes/{stranger}", s.session),
            member_body(),
        )
        .await;
    r.expect_problem(422, "validation_failed");
    // notes only for sessions that happened
    let g: Uuid = {
        use groupwork::schema::sessions;
        sessions::table
            .find(s.session)
            .select(sessions::group_id)
            .first(&mut s.app.conn())
            .unwrap()
    };
    let future = fixtures::session(&s.app, g, 2, Utc::now() + Duration::days(3), "scheduled");
    s.app
        .put(
            Some(&s.sup),
            &format!("/sessions/{future}/member-notes/{}", s.member),
            member_body(),
        )
        .await
        .expect_problem(409, "session_not_started");
    s.app
        .post(Some(&s.sup), &format!("{path}/sign"), json!({}))
        .await
        .expect(200);
    s.app
        .put(Some(&s.sup), &path, member_body())
        .await
        .expect_problem(409, "note_signed");
    s.app
        .post(Some(&s.sup), &format!("{path}/cosign"), json!({}))
        .await
        .expect_problem(409, "conflict");
}

#[actix_web::test]
async fn access_matrix_and_audit() {
    let s = setup().await;
    let gpath = format!("/sessions/{}/group-note", s.session);
    let mpath = format!("/sessions/{}/member-notes/{}", s.session, s.member);
    s.app
        .put(Some(&s.lead), &gpath, group_body())
        .await
        .expect(201);
    s.app
        .put(Some(&s.lead), &mpath, member_body())
        .await
        .expect(201);
    let admin = s.app.staff(Role::Admin).await;
    let intake = s.app.staff(Role::Intake).await;
    let stranger = s.app.staff(Role::Therapist).await;
    for u in [&admin, &intake] {
        for p in [&gpath, &mpath] {
            let r = s.app.get(Some(u), p).await.expect_problem(403, "forbidden");
            assert!(!r.text.contains("SECRET"));
            if *p == gpath {
                s.app
                    .put(Some(u), p, group_body())
                    .await
                    .expect_problem(403, "forbidden");
            } else {
                s.app
                    .put(Some(u), p, member_body())
                    .await
                    .expect_problem(403, "forbidden");
            }
            s.app
                .post(Some(u), &format!("{p}/addenda"), json!({"content": "x"}))
                .await
                .expect_problem(403, "forbidden");
        }
    }
    for p in [&gpath, &mpath] {
        let r = s
            .app
            .get(Some(&stranger), p)
            .await
            .expect_problem(404, "not_found");
        assert!(!r.text.contains("SECRET"));
    }
    s.app.get(Some(&s.lead), &gpath).await.expect(200);
    s.app.get(Some(&s.sup), &mpath).await.expect(200);
    let reads = s.app.audit_actions("note.read");
    assert!(reads.iter().filter(|r| r.1 == "allowed").count() == 2);
    assert_eq!(
        reads.iter().filter(|r| r.1 == "denied").count(),
        6,
        "{reads:?}"
    );
    assert_eq!(
        s.app
            .audit_actions("note.write")
            .iter()
            .filter(|r| r.1 == "denied")
            .count(),
        4
    );
    assert_eq!(
        s.app
            .audit_actions("note.write")
            .iter()
            .filter(|r| r.1 == "allowed")
            .count(),
        2
    );
    let all: Vec<serde_json::Value> = {
        use groupwork::schema::audit_events as ae;
        ae::table
            .select(ae::details)
            .load(&mut s.app.conn())
            .unwrap()
    };
    assert!(
        all.iter().all(|d| !d.to_string().contains("SECRET")),
        "no content in the audit trail"
    );
}

#[actix_web::test]
async fn the_database_never_holds_plaintext() {
    let s = setup().await;
    let gpath = format!("/sessions/{}/group-note", s.session);
    let mpath = format!("/sessions/{}/member-notes/{}", s.session, s.member);
    s.app
        .put(Some(&s.lead), &gpath, group_body())
        .await
        .expect(201);
    s.app
        .put(Some(&s.lead), &mpath, member_body())
        .await
        .expect(201);
    s.app
        .post(Some(&s.lead), &format!("{gpath}/sign"), json!({}))
        .await
        .expect(200);
    s.app
        .post(
            Some(&s.lead),
            &format!("{gpath}/addenda"),
            json!({"content": "SECRET-ADDENDUM"}),
        )
        .await
        .expect(201);
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut conn = s.app.conn();
    for table in ["group_notes", "member_notes", "note_addenda"] {
        let rows: Vec<Row> =
            diesel::sql_query(format!("SELECT row_to_json(t)::text AS row FROM {table} t"))
                .load(&mut conn)
                .unwrap();
        assert!(!rows.is_empty());
        for r in rows {
            for secret in ["SECRET", "relapse", "cohesion", "engaged"] {
                assert!(!r.row.contains(secret), "{table} holds {secret}: {}", r.row);
            }
        }
    }
}

#[actix_web::test]
async fn tampered_or_moved_ciphertexts_fail_cleanly() {
    let s = setup().await;
    let a = format!("/sessions/{}/member-notes/{}", s.session, s.member);
    let b = format!("/sessions/{}/member-notes/{}", s.session, s.other_member);
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
    let mut conn = s.app.conn();
    // move A's ciphertext onto B's row
    diesel::sql_query(format!(
        "UPDATE member_notes SET nonce = a.nonce, ciphertext = a.ciphertext FROM member_notes a \
         WHERE a.membership_id = '{}' AND member_notes.membership_id = '{}'",
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
    // flip a byte of A's ciphertext
    diesel::sql_query(format!(
        "UPDATE member_notes SET ciphertext = overlay(ciphertext placing '\\x00'::bytea from 3 for 1) WHERE membership_id = '{}'",
        s.member
    ))
    .execute(&mut conn)
    .unwrap();
    s.app
        .get(Some(&s.lead), &a)
        .await
        .expect_problem(409, "note_undecryptable");
    let failures = s.app.audit_actions("note.decrypt_failed");
    assert_eq!(failures.len(), 2);
    assert!(failures.iter().all(|f| f.1 == "denied"));
}

#[actix_web::test]
async fn key_rotation_round_trip() {
    let s = setup().await;
    let g = format!("/sessions/{}/group-note", s.session);
    let m1 = format!("/sessions/{}/member-notes/{}", s.session, s.member);
    let m2 = format!("/sessions/{}/member-notes/{}", s.session, s.other_member);
    s.app.put(Some(&s.lead), &g, group_body()).await.expect(201);
    s.app
        .put(Some(&s.lead), &m1, member_body())
        .await
        .expect(201);
    s.app
        .put(
            Some(&s.lead),
            &m2,
            json!({"participation": "none", "content": "quiet today"}),
        )
        .await
        .expect(201);
    s.app
        .post(Some(&s.lead), &format!("{g}/sign"), json!({}))
        .await
        .expect(200);
    s.app
        .post(
            Some(&s.lead),
            &format!("{g}/addenda"),
            json!({"content": "late addendum"}),
        )
        .await
        .expect(201);

    let new_key = [42u8; 32];
    let new_b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, new_key);
    let run = |previous: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_groupwork"));
        cmd.arg("rotate-notes-key")
            .env("DATABASE_URL", &s.app.db_url)
            .env("GROUPWORK_JWT_SECRET", crate::helpers::JWT_SECRET)
            .env("GROUPWORK_NOTES_KEY", &new_b64)
            .env_remove("GROUPWORK_NOTES_KEY_PREVIOUS")
            .current_dir(std::env::temp_dir());
        if let Some(p) = previous {
            cmd.env("GROUPWORK_NOTES_KEY_PREVIOUS", p);
        }
        cmd.output().unwrap()
    };
    assert!(
        !run(None).status.success(),
        "refuses without the previous key"
    );
    let out = run(Some(crate::helpers::NOTES_KEY_B64));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("1 group notes, 2 member notes and 1 addenda"));

    let new_id = key_id(&new_key);
    let mut conn = s.app.conn();
    #[derive(QueryableByName)]
    struct K {
        #[diesel(sql_type = diesel::sql_types::Text)]
        key_id: String,
    }
    let ids: Vec<K> = diesel::sql_query(
        "SELECT key_id FROM group_notes UNION ALL SELECT key_id FROM member_notes UNION ALL SELECT key_id FROM note_addenda",
    )
    .load(&mut conn)
    .unwrap();
    assert_eq!(ids.len(), 4);
    assert!(
        ids.iter().all(|k| k.key_id == new_id),
        "none left under the old key"
    );

    // every note reads back under the new key alone
    let cipher = NotesCipher::new(&new_key, None);
    use groupwork::notes::model::{find, view, Target};
    for target in [
        Target::Group {
            session_id: s.session,
        },
        Target::Member {
            session_id: s.session,
            membership_id: s.member,
        },
        Target::Member {
            session_id: s.session,
            membership_id: s.other_member,
        },
    ] {
        let note = find(&mut conn, target, false).unwrap().unwrap();
        let n = view(&mut conn, &cipher, note)
            .unwrap()
            .expect("decrypts under the new key");
        if target.membership_id() == Some(s.member) {
            assert_eq!(n.fields["content"], MEMBER_NOTE);
        }
        if target.membership_id().is_none() {
            assert_eq!(n.addenda[0].content, "late addendum");
        }
    }
    // the running server (old key only) now fails cleanly
    s.app
        .get(Some(&s.lead), &m1)
        .await
        .expect_problem(409, "note_undecryptable");
    // running again changes nothing
    let out = run(Some(crate::helpers::NOTES_KEY_B64));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("0 group notes, 0 member notes and 0 addenda"));
}
