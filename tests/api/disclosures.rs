//! Issue 17: disclosures under a consent (42 CFR Part 2) — the PDF attendance letter (its text
//! read back with poppler's `pdftotext`), the accounting of disclosures, the document served
//! again byte for byte, and every refusal leaving the accounting unchanged.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use groupwork::auth::policy::act;
use groupwork::auth::Role;
use groupwork::disclosures::letter::REDISCLOSURE_NOTICE;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::consents::court_consent;
use crate::fixtures;
use crate::helpers::{TestApp, TestUser, NOTES_KEY_B64};

const PRACTICE: &str = "Riverbend Recovery Center";

/// The text of a PDF as `pdftotext` reads it, whitespace collapsed to single spaces.
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("gw-pdf-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils; ./dev test installs it) runs");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    normalize(&String::from_utf8(out.stdout).unwrap())
}

fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn day(days_ago: i64) -> NaiveDate {
    (Utc::now() - Duration::days(days_ago)).date_naive()
}

fn at(days_ago: i64) -> DateTime<Utc> {
    day(days_ago)
        .and_time(NaiveTime::from_hms_opt(18, 0, 0).unwrap())
        .and_utc()
}

fn disclosures_count(app: &TestApp) -> i64 {
    groupwork::schema::disclosures::table
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

struct World {
    app: TestApp,
    sup: TestUser,
    lead: TestUser,
    client: Uuid,
    group: Uuid,
    consent: String,
}

/// A mandated client seated 60 days ago in a group led by `lead`: a session held 50 days
/// ago (before the period), three held in the period (present, 10 minutes late, unexcused),
/// one cancelled in it; and a court consent to disclose attendance and membership status.
async fn world() -> World {
    let app = TestApp::spawn_with(|s| s.practice_name = PRACTICE.into()).await;
    let sup = app.staff(Role::Supervisor).await;
    let lead = app.staff(Role::Therapist).await;
    let group = fixtures::group(&app, lead.id).status("active").create();
    let contract = fixtures::contract(&app, group, 1, sup.id);
    let client = fixtures::client(&app, "Dana", "Whitfield");
    fixtures::referral(&app, client, "court", true);
    let m = fixtures::seat(&app, group, contract, sup.id, at(60), client);
    let before = fixtures::session(&app, group, 1, at(50), "held");
    fixtures::attendance(&app, before, m, "present", sup.id);
    let s2 = fixtures::session(&app, group, 2, at(35), "held");
    fixtures::attendance(&app, s2, m, "present", sup.id);
    let s3 = fixtures::session(&app, group, 3, at(28), "held");
    fixtures::attendance(&app, s3, m, "late", sup.id);
    diesel::update(
        groupwork::schema::attendance::table
            .filter(groupwork::schema::attendance::session_id.eq(s3)),
    )
    .set(groupwork::schema::attendance::minutes_late.eq(Some(10)))
    .execute(&mut app.conn())
    .unwrap();
    fixtures::session(&app, group, 4, at(21), "cancelled");
    let s5 = fixtures::session(&app, group, 5, at(14), "held");
    fixtures::attendance(&app, s5, m, "unexcused_absence", sup.id);
    let consent = app
        .post(
            Some(&lead),
            &format!("/clients/{client}/consents"),
            court_consent(),
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    World {
        app,
        sup,
        lead,
        client,
        group,
        consent,
    }
}

#[track_caller]
fn unchanged(app: &TestApp) {
    assert_eq!(disclosures_count(app), 0, "the accounting changed");
}

fn group_name(app: &TestApp, group: Uuid) -> String {
    groupwork::schema::groups::table
        .find(group)
        .select(groupwork::schema::groups::name)
        .first(&mut app.conn())
        .unwrap()
}

fn ask(consent: &str, information: Value) -> Value {
    json!({"consent_id": consent, "information": information,
           "from": day(40), "to": day(5)})
}

#[actix_web::test]
async fn the_attendance_letter_says_what_the_court_needs_and_carries_the_notice() {
    let w = world().await;
    let app = &w.app;
    let path = format!("/clients/{}/disclosures", w.client);
    let r = app
        .post(Some(&w.lead), &path, ask(&w.consent, json!(["attendance"])))
        .await
        .expect(201);
    let d = r.body.clone();
    assert_eq!(d["client_id"], w.client.to_string());
    assert_eq!(d["consent_id"], w.consent.as_str());
    assert_eq!(d["recipient_name"], "Harris County Drug Court");
    assert_eq!(d["information"], json!(["attendance"]));
    assert_eq!(d["period_from"], day(40).to_string());
    assert_eq!(d["period_to"], day(5).to_string());
    assert_eq!(d["disclosed_by"], w.lead.id.to_string());
    let id = d["id"].as_str().unwrap().to_string();

    let (status, headers, pdf) = app
        .get_bytes(Some(&w.lead), &format!("/disclosures/{id}/document"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(hex::encode(Sha256::digest(&pdf)), d["document_sha256"]);

    let text = pdf_text(&pdf);
    let g = group_name(app, w.group);
    for expected in [
        PRACTICE.to_string(),
        format!("Date: {}", Utc::now().date_naive()),
        "To: Harris County Drug Court (court)".into(),
        "Purpose: Monthly compliance report to the supervising judge".into(),
        "Client: Dana Whitfield".into(),
        "Date of birth: 1985-04-12".into(),
        "Information disclosed: attendance".into(),
        format!("Period: {} to {}", day(40), day(5)),
        format!("Group: {g}"),
        format!("#2 {} present", day(35)),
        format!("#3 {} late (10 min late)", day(28)),
        format!("#5 {} unexcused absence", day(14)),
        "Totals: 3 held; attended 2 (present 1, late 1, left early 0); excused absences 0; \
         unexcused absences 1; attendance rate 67%."
            .into(),
        "Released by Test therapist".into(),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in:\n{text}");
    }
    // the full §2.32 notice, every paragraph of it
    assert!(text.contains("Notice to the recipient (42 CFR 2.32)"));
    for p in REDISCLOSURE_NOTICE {
        assert!(text.contains(&normalize(p)), "{p:?} not in:\n{text}");
    }
    // nothing outside the period, nothing cancelled, nothing not asked for
    assert!(!text.contains("#1 "), "{text}");
    assert!(!text.contains("#4 "), "{text}");
    assert!(!text.contains("Group membership"), "{text}");
    assert!(!text.contains(&id), "no id inside the document");

    // served again, byte for byte; audited, and not a new disclosure
    let (_, _, again) = app
        .get_bytes(Some(&w.sup), &format!("/disclosures/{id}/document"))
        .await;
    assert_eq!(again, pdf);
    assert_eq!(disclosures_count(app), 1);
    let reads = app.audit_actions("disclosure.document_read");
    assert_eq!(reads.len(), 2);
    assert!(reads
        .iter()
        .all(|(_, o, rid, _)| o == "allowed" && *rid == Some(id.parse().unwrap())));
    let created = app.audit_actions("disclosure.create");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].3["document_sha256"], d["document_sha256"]);

    // the same facts make the same bytes: the same disclosure again, the same digest (unless
    // the day turned in between: the letter is dated); by someone else, the letter says so
    let again = app
        .post(Some(&w.lead), &path, ask(&w.consent, json!(["attendance"])))
        .await
        .expect(201);
    assert_ne!(again.body["id"], d["id"]);
    if again.body["disclosed_at"].as_str().unwrap()[..10]
        == d["disclosed_at"].as_str().unwrap()[..10]
    {
        assert_eq!(again.body["document_sha256"], d["document_sha256"]);
    }
    let by_sup = app
        .post(Some(&w.sup), &path, ask(&w.consent, json!(["attendance"])))
        .await
        .expect(201);
    assert_ne!(by_sup.body["document_sha256"], d["document_sha256"]);
    let (_, _, pdf) = app
        .get_bytes(
            Some(&w.sup),
            &format!(
                "/disclosures/{}/document",
                by_sup.body["id"].as_str().unwrap()
            ),
        )
        .await;
    assert!(pdf_text(&pdf).contains("Released by Test supervisor"));
    assert_eq!(disclosures_count(app), 3);
}

#[actix_web::test]
async fn membership_status_and_the_accounting_newest_first_in_the_record_too() {
    let w = world().await;
    let app = &w.app;
    let path = format!("/clients/{}/disclosures", w.client);
    let first = app
        .post(
            Some(&w.sup),
            &path,
            json!({"consent_id": w.consent, "information": ["membership_status"]}),
        )
        .await
        .expect(201);
    let text = {
        let (_, _, pdf) = app
            .get_bytes(
                Some(&w.sup),
                &format!(
                    "/disclosures/{}/document",
                    first.body["id"].as_str().unwrap()
                ),
            )
            .await;
        pdf_text(&pdf)
    };
    let g = group_name(app, w.group);
    assert!(
        text.contains(&format!("{g}: active member; joined {}", day(60))),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Period: from the start of treatment to {}",
            Utc::now().date_naive()
        )),
        "{text}"
    );
    assert!(
        !text.contains("Attendance at held group sessions"),
        "{text}"
    );

    let intake = app.staff(Role::Intake).await;
    let second = app
        .post(
            Some(&intake),
            &path,
            ask(&w.consent, json!(["membership_status", "attendance"])),
        )
        .await
        .expect(201);
    assert_eq!(
        second.body["information"],
        json!(["attendance", "membership_status"])
    );

    let list = app.get(Some(&w.lead), &path).await.expect(200);
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            second.body["id"].as_str().unwrap(),
            first.body["id"].as_str().unwrap()
        ]
    );
    assert_eq!(
        list.body["items"][0]["purpose"],
        "Monthly compliance report to the supervising judge"
    );
    let paged = app
        .get(Some(&intake), &format!("{path}?limit=1"))
        .await
        .expect(200);
    assert_eq!(paged.body["items"][0]["id"], second.body["id"]);
    assert!(paged.body["next_cursor"].is_string());

    let record = app
        .get(Some(&w.sup), &format!("/clients/{}/record", w.client))
        .await
        .expect(200);
    assert_eq!(record.body["disclosures"].as_array().unwrap().len(), 2);
    assert_eq!(record.body["disclosures"][0]["id"], second.body["id"]);
    assert_eq!(
        record.body["disclosures"][1]["document_sha256"],
        first.body["document_sha256"]
    );
    assert_eq!(app.audit_actions("disclosure.list").len(), 2);
}

/// Every refusal answers as SPEC §8 says and leaves the accounting as it was.
#[actix_web::test]
async fn refusals_leave_the_accounting_unchanged() {
    let w = world().await;
    let app = &w.app;
    let path = format!("/clients/{}/disclosures", w.client);
    let admin = app.staff(Role::Admin).await;
    let stranger = app.staff(Role::Therapist).await;
    let consent_path = format!("/clients/{}/consents", w.client);

    // no consent at all, and another client's consent
    app.post(
        Some(&w.sup),
        &path,
        ask(&Uuid::new_v4().to_string(), json!(["attendance"])),
    )
    .await
    .expect_problem(409, "consent_required");
    unchanged(app);
    let other = fixtures::client(app, "Other", "Person");
    let theirs = app
        .post(
            Some(&w.sup),
            &format!("/clients/{other}/consents"),
            court_consent(),
        )
        .await
        .expect(201);
    app.post(
        Some(&w.sup),
        &path,
        ask(theirs.body["id"].as_str().unwrap(), json!(["attendance"])),
    )
    .await
    .expect_problem(409, "consent_required");
    unchanged(app);

    // not covering: the consent names attendance and membership status only
    let r = app
        .post(
            Some(&w.sup),
            &path,
            ask(&w.consent, json!(["attendance", "screening_outcome"])),
        )
        .await
        .expect_problem(409, "consent_required");
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("screening_outcome"));
    app.post(Some(&w.sup), &path, ask(&w.consent, json!(["record"])))
        .await
        .expect_problem(409, "consent_required");
    unchanged(app);

    // expired (past its date) and not yet in effect
    let mut old = court_consent();
    old["effective_on"] = json!(day(400));
    old["expires_on"] = json!(day(1));
    old["signed_at"] = json!(Utc::now() - Duration::days(400));
    let expired = app.post(Some(&w.sup), &consent_path, old).await.expect(201);
    assert_eq!(expired.body["status"], "expired");
    let r = app
        .post(
            Some(&w.sup),
            &path,
            ask(expired.body["id"].as_str().unwrap(), json!(["attendance"])),
        )
        .await
        .expect_problem(409, "consent_required");
    assert!(r.body["detail"].as_str().unwrap().contains("expired"));
    let mut later = court_consent();
    later["effective_on"] = json!(Utc::now().date_naive() + Duration::days(3));
    let later = app
        .post(Some(&w.sup), &consent_path, later)
        .await
        .expect(201);
    app.post(
        Some(&w.sup),
        &path,
        ask(later.body["id"].as_str().unwrap(), json!(["attendance"])),
    )
    .await
    .expect_problem(409, "consent_required");
    unchanged(app);

    // out of scope (404, existence not disclosed), an administrator (403, never discloses)
    app.post(
        Some(&stranger),
        &path,
        ask(&w.consent, json!(["attendance"])),
    )
    .await
    .expect_problem(404, "not_found");
    app.post(Some(&admin), &path, ask(&w.consent, json!(["attendance"])))
        .await
        .expect_problem(403, "forbidden");
    app.get(Some(&admin), &path)
        .await
        .expect_problem(403, "forbidden");
    app.get(Some(&stranger), &path)
        .await
        .expect_problem(404, "not_found");
    unchanged(app);

    // a bad request
    for (body, field) in [
        (
            json!({"consent_id": w.consent, "information": []}),
            "information",
        ),
        (json!({"information": ["attendance"]}), "consent_id"),
        (
            json!({"consent_id": w.consent, "information": ["attendance"],
                   "from": "2026-06-01", "to": "2026-05-01"}),
            "to",
        ),
    ] {
        let r = app
            .post(Some(&w.sup), &path, body)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field);
    }
    unchanged(app);

    // revoked, last: until then the consent was good
    app.post(
        Some(&w.sup),
        &format!("/consents/{}/revoke", w.consent),
        json!({"reason": "client revoked in writing"}),
    )
    .await
    .expect(200);
    let r = app
        .post(Some(&w.lead), &path, ask(&w.consent, json!(["attendance"])))
        .await
        .expect_problem(409, "consent_required");
    assert!(r.body["detail"].as_str().unwrap().contains("revoked"));
    unchanged(app);

    let list = app.get(Some(&w.sup), &path).await.expect(200);
    assert_eq!(list.body["items"], json!([]));
    let record = app
        .get(Some(&w.sup), &format!("/clients/{}/record", w.client))
        .await
        .expect(200);
    assert_eq!(record.body["disclosures"], json!([]));

    // every refusal of the disclosure itself is in the audit trail
    let denied = app
        .audit_actions("disclosure.create")
        .into_iter()
        .filter(|(_, outcome, _, _)| outcome == "denied")
        .collect::<Vec<_>>();
    let reasons: Vec<&str> = denied
        .iter()
        .map(|(_, _, _, d)| d["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons.iter().filter(|r| **r == "consent_required").count(),
        7,
        "{reasons:?}"
    );
    assert!(reasons.contains(&"out_of_scope"), "{reasons:?}");
    assert!(app
        .audit_actions("access.forbidden")
        .iter()
        .any(|(actor, _, _, _)| *actor == Some(admin.id)));
}

#[actix_web::test]
async fn the_document_is_read_by_the_care_team_only_and_never_served_altered() {
    let w = world().await;
    let app = &w.app;
    let r = app
        .post(
            Some(&w.sup),
            &format!("/clients/{}/disclosures", w.client),
            ask(&w.consent, json!(["attendance"])),
        )
        .await
        .expect(201);
    let id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    let doc = format!("/disclosures/{id}/document");
    let admin = app.staff(Role::Admin).await;
    let stranger = app.staff(Role::Therapist).await;
    let intake = app.staff(Role::Intake).await;
    assert_eq!(app.get_bytes(Some(&admin), &doc).await.0, 403);
    assert_eq!(app.get_bytes(Some(&stranger), &doc).await.0, 404);
    assert_eq!(app.get_bytes(Some(&intake), &doc).await.0, 200);
    assert_eq!(
        app.get_bytes(
            Some(&w.sup),
            &format!("/disclosures/{}/document", Uuid::new_v4())
        )
        .await
        .0,
        404
    );

    // the database keeps the accounting: no edit, no delete
    use groupwork::schema::disclosures;
    let mut conn = app.conn();
    assert!(diesel::update(disclosures::table.find(id))
        .set(disclosures::recipient_name.eq("someone else"))
        .execute(&mut conn)
        .is_err());
    assert!(diesel::delete(disclosures::table.find(id))
        .execute(&mut conn)
        .is_err());

    // a ciphertext altered (as only a rotation may touch it) is refused, never served
    let (nonce, mut ct): (Vec<u8>, Vec<u8>) = disclosures::table
        .find(id)
        .select((disclosures::nonce, disclosures::ciphertext))
        .first(&mut conn)
        .unwrap();
    ct[0] ^= 1;
    let key = groupwork::notes::crypto::key_id(&[0u8; 32]);
    diesel::update(disclosures::table.find(id))
        .set((
            disclosures::key_id.eq(&key),
            disclosures::nonce.eq(&nonce),
            disclosures::ciphertext.eq(&ct),
        ))
        .execute(&mut conn)
        .unwrap();
    app.get(Some(&w.sup), &doc)
        .await
        .expect_problem(409, "note_undecryptable");
    let denied = app.audit_actions("disclosure.document_read");
    assert!(denied
        .iter()
        .any(|(_, o, _, d)| o == "denied" && d["reason"] == "note_undecryptable"));
}

#[actix_web::test]
async fn a_key_rotation_moves_the_documents_and_keeps_their_bytes() {
    use base64::Engine;
    use groupwork::notes::crypto::{key_id, NotesCipher};
    let w = world().await;
    let app = &w.app;
    let r = app
        .post(
            Some(&w.sup),
            &format!("/clients/{}/disclosures", w.client),
            ask(&w.consent, json!(["attendance", "membership_status"])),
        )
        .await
        .expect(201);
    let id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    let (_, _, before) = app
        .get_bytes(Some(&w.sup), &format!("/disclosures/{id}/document"))
        .await;

    let new_key = [77u8; 32];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_groupwork"))
        .arg("rotate-notes-key")
        .env_clear()
        .env("DATABASE_URL", &app.db_url)
        .env(
            "GROUPWORK_NOTES_KEY",
            base64::engine::general_purpose::STANDARD.encode(new_key),
        )
        .env("GROUPWORK_NOTES_KEY_PREVIOUS", NOTES_KEY_B64)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 disclosed documents"), "{stdout}");

    let row = groupwork::disclosures::model::find(&mut app.conn(), id)
        .unwrap()
        .unwrap();
    assert_eq!(row.key_id, key_id(&new_key));
    let after = row
        .document(&crate::helpers::supervisor_reader::<act::ReadDisclosures>(
            &NotesCipher::new(&new_key, None),
        ))
        .expect("opens under the new key alone");
    assert_eq!(after, before);
    // this server still holds only the old key: a clean refusal, not a 500
    app.get(Some(&w.sup), &format!("/disclosures/{id}/document"))
        .await
        .expect_problem(409, "note_undecryptable");
}
