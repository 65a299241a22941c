//! A therapist's session in the browser: open today's session, record attendance, write and
//! sign a member note; the API then shows exactly that.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{api_login, demo, with_browser};
use crate::helpers::TestApp;

#[actix_web::test]
async fn therapist_records_attendance_and_signs_a_member_note() {
    let app = TestApp::spawn().await;
    demo(&app).await;
    let therapist = api_login(&app, "therapist").await;
    let groups = app.get(Some(&therapist), "/groups").await.expect(200);
    let group = groups.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["status"] == "active")
        .unwrap()
        .clone();
    let gid = group["id"].as_str().unwrap().to_string();
    let sessions = app
        .get(Some(&therapist), &format!("/groups/{gid}/sessions"))
        .await
        .expect(200);
    let today = sessions.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["status"] == "scheduled"
                && s["scheduled_at"]
                    .as_str()
                    .unwrap()
                    .parse::<DateTime<Utc>>()
                    .unwrap()
                    < Utc::now()
        })
        .expect("the demo has a session under way")
        .clone();
    let sid = today["id"].as_str().unwrap().to_string();
    let sheet = app
        .get(Some(&therapist), &format!("/sessions/{sid}/attendance"))
        .await
        .expect(200);
    let members: Vec<String> = sheet.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["membership_id"].as_str().unwrap().to_string())
        .collect();
    assert!(members.len() >= 8);
    let (late, absent, noted) = (&members[0], &members[1], &members[2]);

    with_browser(&app, |b| {
        let (sid, gid) = (sid.clone(), gid.clone());
        let (late, absent, noted) = (late.clone(), absent.clone(), noted.clone());
        async move {
            b.sign_in_demo("therapist").await;
            b.screenshot("home-therapist").await;
            b.click_text("Groups").await;
            b.wait(&format!("a[href='#/groups/{gid}']"))
                .await
                .click()
                .await
                .unwrap();
            b.wait(&format!("a[href='#/sessions/{sid}']"))
                .await
                .click()
                .await
                .unwrap();
            b.wait_text("Attendance").await;

            let row = |m: &str| format!("form.attendance tr[data-membership='{m}']");
            b.select(&format!("{} select", row(&late)), "late").await;
            let minutes = b.wait(&format!("{} input[type=number]", row(&late))).await;
            minutes.send_keys("10").await.unwrap();
            b.select(&format!("{} select", row(&absent)), "excused_absence")
                .await;
            b.click_text("Mark the rest present").await;
            b.click_text("Save attendance").await;
            b.wait_text("Attendance saved.").await;

            b.wait(&format!("details[data-membership='{noted}'] > summary"))
                .await
                .click()
                .await
                .unwrap();
            let note = format!("details[data-membership='{noted}']");
            b.select(&format!("{note} select[name=participation]"), "active")
                .await;
            b.fill(
                &note,
                "progress",
                "Named the urge to leave early and stayed.",
            )
            .await;
            b.wait(&format!("{note} input[name=risk_flags][value=relapse]"))
                .await
                .click()
                .await
                .unwrap();
            b.fill(
                &note,
                "content",
                "Spoke about the weekend; the group responded warmly.",
            )
            .await;
            b.wait_x(&format!(
                "//details[@data-membership='{noted}']//button[normalize-space()='Sign note']"
            ))
            .await
            .click()
            .await
            .unwrap();
            b.wait_text("Note signed.").await;
            b.screenshot("session").await;
        }
    })
    .await;

    let sheet = app
        .get(Some(&therapist), &format!("/sessions/{sid}/attendance"))
        .await
        .expect(200);
    for r in sheet.body["records"].as_array().unwrap() {
        let m = r["membership_id"].as_str().unwrap();
        let (status, minutes) = if m == late {
            ("late", Value::from(10))
        } else if m == absent {
            ("excused_absence", Value::Null)
        } else {
            ("present", Value::Null)
        };
        assert_eq!(r["status"], status, "{m}");
        assert_eq!(r["minutes_late"], minutes, "{m}");
        assert_eq!(r["recorded_by"], therapist.id.to_string());
    }
    let s = app
        .get(Some(&therapist), &format!("/groups/{gid}/sessions"))
        .await;
    let held = s.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == sid.as_str())
        .unwrap()["status"]
        .clone();
    assert_eq!(held, "held");
    let note = app
        .get(
            Some(&therapist),
            &format!("/sessions/{sid}/member-notes/{noted}"),
        )
        .await
        .expect(200);
    assert_eq!(note.body["status"], "signed");
    assert_eq!(note.body["author_id"], therapist.id.to_string());
    assert_eq!(note.body["participation"], "active");
    assert_eq!(
        note.body["progress"],
        "Named the urge to leave early and stayed."
    );
    assert_eq!(note.body["risk_flags"], serde_json::json!(["relapse"]));
    assert_eq!(
        note.body["content"],
        "Spoke about the weekend; the group responded warmly."
    );
    assert_eq!(note.body["addenda"], serde_json::json!([]));
}
