//! Issue 7: `groupwork rotate-notes-key` — every note and addendum moves to the new key, none
//! is lost, rows already under it are skipped, and a row that does not open stops the whole
//! rotation with nothing changed.

use base64::Engine;
use diesel::prelude::*;
use groupwork::auth::policy::act;
use groupwork::notes::crypto::{key_id, NotesCipher};
use groupwork::notes::model::{find, view, Target};
use serde_json::json;

use crate::helpers::NOTES_KEY_B64;
use crate::notes::{group_body, member_body, setup, Setup, GROUP_NOTE, MEMBER_NOTE};

const NEW_KEY: [u8; 32] = [42; 32];

fn b64(key: &[u8; 32]) -> String {
    base64::engine::general_purpose::STANDARD.encode(key)
}

fn old_key() -> [u8; 32] {
    base64::engine::general_purpose::STANDARD
        .decode(NOTES_KEY_B64)
        .unwrap()
        .try_into()
        .unwrap()
}

/// Runs the command with only the variables it needs (no JWT secret, no `.env`).
fn rotate(s: &Setup, current: &str, previous: Option<&str>) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_groupwork"));
    cmd.arg("rotate-notes-key")
        .env_clear()
        .env("DATABASE_URL", &s.app.db_url)
        .env("GROUPWORK_NOTES_KEY", current)
        .current_dir(std::env::temp_dir());
    if let Some(p) = previous {
        cmd.env("GROUPWORK_NOTES_KEY_PREVIOUS", p);
    }
    cmd.output().unwrap()
}

#[derive(QueryableByName)]
struct KeyId {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key_id: String,
}

fn key_ids(conn: &mut PgConnection) -> Vec<String> {
    diesel::sql_query(
        "SELECT key_id FROM group_notes UNION ALL SELECT key_id FROM member_notes \
         UNION ALL SELECT key_id FROM note_addenda",
    )
    .load::<KeyId>(conn)
    .unwrap()
    .into_iter()
    .map(|k| k.key_id)
    .collect()
}

/// A signed, co-signed group note with two addenda and two member notes (one signed).
async fn notes(s: &Setup) {
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
        .post(Some(&s.sup), &format!("{g}/cosign"), json!({}))
        .await
        .expect(200);
    s.app
        .post(Some(&s.lead), &format!("{m1}/sign"), json!({}))
        .await
        .expect(200);
    for text in ["late addendum", "a second thought"] {
        s.app
            .post(
                Some(&s.lead),
                &format!("{g}/addenda"),
                json!({"content": text}),
            )
            .await
            .expect(201);
    }
}

#[actix_web::test]
async fn key_rotation_round_trip() {
    let s = setup().await;
    notes(&s).await;
    let (old_b64, new_b64) = (NOTES_KEY_B64.to_string(), b64(&NEW_KEY));

    let out = rotate(&s, &new_b64, None);
    assert!(!out.status.success(), "refuses without the previous key");
    assert!(String::from_utf8_lossy(&out.stderr).contains("GROUPWORK_NOTES_KEY_PREVIOUS"));
    let out = rotate(&s, &old_b64, Some(&old_b64));
    assert!(!out.status.success(), "refuses the same key twice");
    assert!(key_ids(&mut s.app.conn())
        .iter()
        .all(|k| *k == key_id(&old_key())));

    let out = rotate(&s, &new_b64, Some(&old_b64));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 group notes, 2 member notes and 2 addenda")
            && stdout.contains("0 were already"),
        "{stdout}"
    );
    let mut conn = s.app.conn();
    let ids = key_ids(&mut conn);
    assert_eq!(ids.len(), 5);
    assert!(
        ids.iter().all(|k| *k == key_id(&NEW_KEY)),
        "none left under the old key: {ids:?}"
    );

    // every note reads back under the new key alone, lifecycle and order unchanged
    let reader =
        crate::helpers::supervisor_reader::<act::ReadNotes>(&NotesCipher::new(&NEW_KEY, None));
    let read = |conn: &mut PgConnection, target| {
        let row = find(conn, target, false).unwrap().unwrap();
        view(conn, &reader, row).expect("decrypts under the new key")
    };
    let g = read(
        &mut conn,
        Target::Group {
            session_id: s.session,
        },
    );
    assert_eq!(g.fields["themes"], GROUP_NOTE);
    assert_eq!(g.status.as_str(), "cosigned");
    let texts: Vec<&str> = g.addenda.iter().map(|a| a.content.as_str()).collect();
    assert_eq!(texts, vec!["late addendum", "a second thought"]);
    let m1 = read(
        &mut conn,
        Target::Member {
            session_id: s.session,
            membership_id: s.member,
        },
    );
    assert_eq!(m1.fields["content"], MEMBER_NOTE);
    assert_eq!(m1.status.as_str(), "signed");
    assert_eq!(m1.version, 2, "a rotation is not an edit");
    let m2 = read(
        &mut conn,
        Target::Member {
            session_id: s.session,
            membership_id: s.other_member,
        },
    );
    assert_eq!(m2.fields["content"], "quiet today");

    // a server still on the old key alone fails cleanly, never with a 500
    let m1_path = format!("/sessions/{}/member-notes/{}", s.session, s.member);
    s.app
        .get(Some(&s.lead), &m1_path)
        .await
        .expect_problem(409, "note_undecryptable");

    // running again finds everything current
    let out = rotate(&s, &new_b64, Some(&old_b64));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("0 group notes, 0 member notes and 0 addenda")
            && stdout.contains("5 were already"),
        "{stdout}"
    );
}

#[actix_web::test]
async fn a_row_that_does_not_open_stops_the_rotation_with_nothing_changed() {
    let s = setup().await;
    notes(&s).await;
    // a third session's note sealed under a key that neither variable holds
    let session = crate::fixtures::session(
        &s.app,
        s.group,
        2,
        chrono::Utc::now() - chrono::Duration::hours(3),
        "held",
    );
    groupwork::notes::model::insert(
        &mut s.app.conn(),
        &NotesCipher::new(&[9; 32], None),
        Target::Group {
            session_id: session,
        },
        s.lead.id,
        &json!({"themes": "stray"}),
    )
    .unwrap();
    let before = key_ids(&mut s.app.conn());
    let out = rotate(&s, &b64(&NEW_KEY), Some(NOTES_KEY_B64));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("group note") && stderr.contains("no key"),
        "{stderr}"
    );
    let mut after = key_ids(&mut s.app.conn());
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(before, after, "one transaction: nothing moved");
    assert!(!after.contains(&key_id(&NEW_KEY)));
}
