//! Issue 15 (5): screening assessments, admission-override, exit-notice and exit-rescind
//! reasons and discharge notes are sealed at rest like notes (AES-256-GCM under the notes key,
//! bound to table, column and row), read back through the API, survive `rotate-notes-key`,
//! and a ciphertext moved to another row or column does not open. Rows written in clear before
//! (legacy) are sealed by the rotation.

use base64::Engine;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use groupwork::auth::Role;
use groupwork::notes::crypto::{key_id, key_prefix};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::exits_v2::group;
use crate::fixtures;
use crate::helpers::{TestApp, TestUser, NOTES_KEY_B64};

const NEW_KEY: [u8; 32] = [77; 32];

#[derive(QueryableByName)]
struct RowText {
    #[diesel(sql_type = Text)]
    t: String,
}

/// The whole row as PostgreSQL prints it (bytea as hex).
fn row_text(app: &TestApp, table: &str, id: Uuid) -> String {
    diesel::sql_query(format!("SELECT r::text AS t FROM {table} r WHERE id = $1"))
        .bind::<SqlUuid, _>(id)
        .get_result::<RowText>(&mut app.conn())
        .unwrap()
        .t
}

/// Neither the marker nor its bytes (hex, as a bytea prints) are in the row.
fn assert_not_stored(app: &TestApp, table: &str, id: Uuid, marker: &str) {
    let row = row_text(app, table, id);
    assert!(!row.contains(marker), "{marker} in clear in {table}: {row}");
    assert!(
        !row.contains(&hex::encode(marker)),
        "{marker} as bytes in {table}: {row}"
    );
}

fn rotate(app: &TestApp, new: &[u8; 32]) -> String {
    let b64 = |k: &[u8]| base64::engine::general_purpose::STANDARD.encode(k);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_groupwork"))
        .arg("rotate-notes-key")
        .env_clear()
        .env("DATABASE_URL", &app.db_url)
        .env("GROUPWORK_NOTES_KEY", b64(new))
        .env("GROUPWORK_NOTES_KEY_PREVIOUS", NOTES_KEY_B64)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A client screened through the API (the assessment carrying `marker`); answers the
/// screening's id and its response.
async fn screened(app: &TestApp, ther: &TestUser, marker: &str) -> (Uuid, Uuid, Value) {
    let intake = app.staff(Role::Intake).await;
    let client = fixtures::client(app, "Sealed", &format!("C{}", &marker[..6]));
    let at = (Utc::now() - Duration::days(2)).to_rfc3339();
    let r = app
        .post(
            Some(&intake),
            &format!("/clients/{client}/screenings"),
            json!({"interviewer_id": ther.id, "scheduled_at": at}),
        )
        .await
        .expect(201);
    let id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    let r = app
        .post(
            Some(ther),
            &format!("/screenings/{id}/complete"),
            json!({"outcome": "accepted", "assessment": {
                "motivation": 4, "contraindications": ["other"],
                "concurrent_therapies": "weekly CBT",
                "substance_use_summary": format!("opioids; {marker}"),
                "notes": format!("notes {marker}")}}),
        )
        .await
        .expect(200);
    (client, id, r.body)
}

async fn membership(app: &TestApp, user: &TestUser, m: Uuid) -> Value {
    app.get(Some(user), &format!("/memberships/{m}"))
        .await
        .expect(200)
        .body
}

struct Ids {
    screening: Uuid,
    admitted: Uuid,
    m1: Uuid,
    m2: Uuid,
    m3: Uuid,
}

async fn check_reads(app: &TestApp, sup: &TestUser, ther: &TestUser, ids: &Ids) {
    let s = app
        .get(Some(ther), &format!("/screenings/{}", ids.screening))
        .await
        .expect(200)
        .body;
    assert_eq!(s["assessment"]["notes"], "notes MARKER-ASSESS-7f3a");
    assert_eq!(s["assessment"]["contraindications"], json!(["other"]));
    assert_eq!(s["outcome"], "accepted");
    let a = membership(app, sup, ids.admitted).await;
    assert_eq!(a["override_reason"], "MARKER-OVERRIDE-91c2");
    let one = membership(app, ther, ids.m1).await;
    assert_eq!(one["exit_notice_reason"], "MARKER-NOTICE-55b0");
    assert_eq!(one["exit_rescind_reason"], "MARKER-RESCIND-0d4e");
    assert_eq!(
        membership(app, ther, ids.m2).await["exit_note"],
        "MARKER-DISCHARGE-c81f"
    );
    assert_eq!(
        membership(app, ther, ids.m3).await["exit_notice_reason"],
        "MARKER-LEGACY-2b9d"
    );
}

#[actix_web::test]
async fn clinical_texts_are_sealed_at_rest_and_survive_a_key_rotation() {
    let g = group(1, 2).await;
    let app = &g.app;
    let sup = app.staff(Role::Supervisor).await;
    let intake = app.staff(Role::Intake).await;

    // the assessment
    let (client, screening, body) = screened(app, &g.ther, "MARKER-ASSESS-7f3a").await;
    assert!(body["assessment"]["substance_use_summary"]
        .as_str()
        .unwrap()
        .contains("MARKER-ASSESS-7f3a"));
    // the waitlist still sees the accepted outcome
    let w = app.get(Some(&sup), "/waitlist").await.expect(200);
    assert!(w.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["screening_id"] == screening.to_string()));

    // an override admission into the active group
    let r = app
        .post(
            Some(&sup),
            &format!("/groups/{}/members", g.id),
            json!({"client_id": client, "screening_id": screening,
                   "override_reason": "MARKER-OVERRIDE-91c2"}),
        )
        .await
        .expect(201);
    let admitted: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();

    // an exit notice taken back, and a discharge
    let m1 = g.member();
    let m2 = g.member();
    app.post(
        Some(&g.ther),
        &format!("/memberships/{m1}/exit-notice"),
        json!({"reason": "MARKER-NOTICE-55b0"}),
    )
    .await
    .expect(200);
    let r = app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m1}/rescind-exit"),
            json!({"reason": "MARKER-RESCIND-0d4e"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["exit_notice_reason"], "MARKER-NOTICE-55b0");
    assert_eq!(r.body["exit_rescind_reason"], "MARKER-RESCIND-0d4e");
    let r = app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m2}/discharge"),
            json!({"exit_reason": "discharged", "note": "MARKER-DISCHARGE-c81f"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["exit_note"], "MARKER-DISCHARGE-c81f");

    // a row from before encryption: plain text in the old column
    let m3 = g.member();
    diesel::sql_query(
        "UPDATE memberships SET status = 'exiting', exit_notice_reason = 'MARKER-LEGACY-2b9d' \
         WHERE id = $1",
    )
    .bind::<SqlUuid, _>(m3)
    .execute(&mut app.conn())
    .unwrap();

    let ids = Ids {
        screening,
        admitted,
        m1,
        m2,
        m3,
    };
    check_reads(app, &sup, &g.ther, &ids).await;
    // non-clinical roles still see none of it
    let r = membership(app, &intake, m1).await;
    assert_eq!(r["exit_notice_reason"], Value::Null);
    let r = app
        .get(Some(&intake), &format!("/screenings/{screening}"))
        .await
        .expect(200);
    assert!(r.body.get("assessment").is_none());

    // nothing in clear in the rows
    assert_not_stored(app, "screenings", screening, "MARKER-ASSESS-7f3a");
    assert_not_stored(app, "memberships", admitted, "MARKER-OVERRIDE-91c2");
    assert_not_stored(app, "memberships", m1, "MARKER-NOTICE-55b0");
    assert_not_stored(app, "memberships", m1, "MARKER-RESCIND-0d4e");
    assert_not_stored(app, "memberships", m2, "MARKER-DISCHARGE-c81f");
    assert!(row_text(app, "memberships", m3).contains("MARKER-LEGACY-2b9d"));

    // the rotation moves every sealed text and seals the legacy ones
    let stdout = rotate(app, &NEW_KEY);
    assert!(
        stdout.contains("re-encrypted 5 screening assessments and membership reasons and notes"),
        "{stdout}"
    );
    // m3's reason and the fixtures' plain assessments (three seats' screenings)
    assert!(
        stdout.contains("sealed 4 written before encryption"),
        "{stdout}"
    );
    assert_not_stored(app, "memberships", m3, "MARKER-LEGACY-2b9d");
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let plain = diesel::sql_query(
        "SELECT (SELECT count(*) FROM screenings WHERE assessment IS NOT NULL) + \
         (SELECT count(*) FROM memberships WHERE num_nonnulls(override_reason, \
          exit_notice_reason, exit_note, exit_rescind_reason) > 0) AS n",
    )
    .get_result::<N>(&mut app.conn())
    .unwrap()
    .n;
    assert_eq!(plain, 0, "no clinical text left in clear");
    let prefix = hex::encode(key_prefix(&key_id(&NEW_KEY)));
    let row = row_text(app, "memberships", m1);
    assert_eq!(
        row.matches(&prefix).count(),
        2,
        "both texts under the new key: {row}"
    );

    // a server on the new key reads everything; one still on the old key alone fails cleanly
    let rotated = app
        .another_instance_with(|s| {
            s.notes_key = NEW_KEY;
            s.notes_key_previous = None;
        })
        .await;
    check_reads(&rotated, &sup, &g.ther, &ids).await;
    app.get(Some(&g.ther), &format!("/memberships/{m1}"))
        .await
        .expect_problem(409, "note_undecryptable");
    app.get(Some(&g.ther), &format!("/screenings/{screening}"))
        .await
        .expect_problem(409, "note_undecryptable");
}

#[actix_web::test]
async fn a_sealed_text_moved_to_another_row_or_column_does_not_open() {
    let g = group(1, 2).await;
    let app = &g.app;
    let (m1, m2) = (g.member(), g.member());
    for (m, reason) in [(m1, "first reason"), (m2, "second reason")] {
        app.post(
            Some(&g.ther),
            &format!("/memberships/{m}/exit-notice"),
            json!({"reason": reason}),
        )
        .await
        .expect(200);
    }
    let (_, s1, _) = screened(app, &g.ther, "MOVE-ONE-aa11").await;
    let (_, s2, _) = screened(app, &g.ther, "MOVE-TWO-bb22").await;
    let exec = |sql: &str, a: Uuid, b: Uuid| {
        diesel::sql_query(sql)
            .bind::<SqlUuid, _>(a)
            .bind::<SqlUuid, _>(b)
            .execute(&mut app.conn())
            .unwrap();
    };
    // m1's reason copied onto m2: m2 no longer opens, m1 still does
    exec(
        "UPDATE memberships SET exit_notice_reason_sealed = \
         (SELECT exit_notice_reason_sealed FROM memberships WHERE id = $1) WHERE id = $2",
        m1,
        m2,
    );
    app.get(Some(&g.ther), &format!("/memberships/{m2}"))
        .await
        .expect_problem(409, "note_undecryptable");
    assert_eq!(
        membership(app, &g.ther, m1).await["exit_notice_reason"],
        "first reason"
    );
    // the same row, another column
    exec(
        "UPDATE memberships SET exit_note_sealed = exit_notice_reason_sealed \
         WHERE id = $1 AND id = $2",
        m1,
        m1,
    );
    app.get(Some(&g.ther), &format!("/memberships/{m1}"))
        .await
        .expect_problem(409, "note_undecryptable");
    // one screening's assessment onto another
    exec(
        "UPDATE screenings SET assessment_sealed = \
         (SELECT assessment_sealed FROM screenings WHERE id = $1) WHERE id = $2",
        s1,
        s2,
    );
    app.get(Some(&g.ther), &format!("/screenings/{s2}"))
        .await
        .expect_problem(409, "note_undecryptable");
    let r = app
        .get(Some(&g.ther), &format!("/screenings/{s1}"))
        .await
        .expect(200);
    assert_eq!(r.body["assessment"]["notes"], "notes MOVE-ONE-aa11");
}
