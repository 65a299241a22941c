//! An intake coordinator creates a client and schedules a screening in the browser; the API
//! then holds exactly that.

use chrono::Datelike;
use serde_json::json;

use super::{api_login, demo, with_browser};
use crate::helpers::TestApp;

#[actix_web::test]
async fn intake_creates_a_client_and_schedules_a_screening() {
    let app = TestApp::spawn().await;
    demo(&app).await;
    let intake = api_login(&app, "intake").await;
    let therapist = api_login(&app, "therapist").await;
    let tid = therapist.id.to_string();
    let chosen = tid.clone();
    // May 6 of next year: ahead (scheduling allows up to three years), and in daylight time.
    let year = chrono::Utc::now().year() + 1;
    with_browser(&app, |b| async move {
        let tid = chosen;
        b.sign_in_demo("intake").await;
        b.click_text("Clients").await;
        b.click_text("New client").await;
        let f = "form[aria-label='New client']";
        b.fill(f, "first_name", "Rosalind").await;
        b.fill(f, "last_name", "Okafor-Lindqvist").await;
        b.fill(f, "preferred_name", "Roz").await;
        b.js("document.querySelector(\"[name=date_of_birth]\").value = '1991-03-17'")
            .await;
        b.fill(f, "phone", "+1 555 0142").await;
        b.select(&format!("{f} [name=referral_source]"), "court")
            .await;
        b.wait(&format!("{f} [name=mandated]"))
            .await
            .click()
            .await
            .unwrap();
        b.click_text("Create client").await;
        b.wait_text("Schedule a screening").await;
        let s = "form[aria-label='Schedule a screening']";
        b.select(&format!("{s} [name=interviewer_id]"), &tid).await;
        b.js(&format!(
            "document.querySelector(\"[name=scheduled_at]\").value = '{year}-05-06T10:30'"
        ))
        .await;
        b.click_text("Schedule screening").await;
        b.wait_text("Screening scheduled.").await;
        b.wait_x("//table//a[contains(@href, '#/screenings/')]")
            .await;
        b.screenshot("client").await;
    })
    .await;

    let found = app
        .get(Some(&intake), "/clients?q=Lindqvist")
        .await
        .expect(200);
    let items = found.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let c = &items[0];
    for (k, v) in [
        ("first_name", json!("Rosalind")),
        ("last_name", json!("Okafor-Lindqvist")),
        ("preferred_name", json!("Roz")),
        ("date_of_birth", json!("1991-03-17")),
        ("phone", json!("+1 555 0142")),
        ("email", json!(null)),
        ("referral_source", json!("court")),
        ("mandated", json!(true)),
    ] {
        assert_eq!(c[k], v, "{k}");
    }
    let screenings = app
        .get(
            Some(&intake),
            &format!("/screenings?client_id={}", c["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    let items = screenings.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["interviewer_id"], tid.as_str());
    assert_eq!(items[0]["status"], "scheduled");
    assert_eq!(items[0]["group_id"], json!(null));
    // The browser runs in America/Chicago (the harness's TZ): 10:30 CDT is 15:30 UTC.
    assert_eq!(items[0]["scheduled_at"], format!("{year}-05-06T15:30:00Z"));
}
