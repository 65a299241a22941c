//! Part 2 in the console: a supervisor discloses the demo's mandated client's attendance to the
//! court under the consent on file and downloads the letter — the file is the document the API
//! serves, and the accounting holds the new disclosure — then reviews the demo's emergency
//! access grant from the review queue.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use groupwork::schema::consents;
use uuid::Uuid;

use super::{api_login, demo, with_browser};
use crate::helpers::TestApp;

#[actix_web::test]
async fn supervisor_discloses_downloads_the_letter_and_reviews_emergency_access() {
    let app = TestApp::spawn().await;
    demo(&app).await;
    let sup = api_login(&app, "supervisor").await;
    let (consent_id, client_id): (Uuid, Uuid) = consents::table
        .filter(consents::recipient_kind.eq("court"))
        .select((consents::id, consents::client_id))
        .first(&mut app.conn())
        .unwrap();
    let before = app
        .get(Some(&sup), &format!("/clients/{client_id}/disclosures"))
        .await
        .expect(200);
    let before = before.body["items"].as_array().unwrap().len();
    let queue = app
        .get(Some(&sup), "/emergency-access?reviewed=false")
        .await
        .expect(200);
    assert_eq!(
        queue.body["items"].as_array().unwrap().len(),
        1,
        "the demo's grant"
    );
    let mut pdf = None;
    with_browser(&app, |b| {
        let pdf = &mut pdf;
        async move {
            b.sign_in_demo("supervisor").await;
            b.goto(&format!("/#/clients/{client_id}")).await;
            b.wait_text("Disclosures (accounting)").await;
            b.click_text("Disclose under a consent").await;
            let form = "form[aria-label='Disclose under a consent']";
            b.select(
                &format!("{form} [name=consent_id]"),
                &consent_id.to_string(),
            )
            .await;
            b.wait(&format!("{form} input[name=information][value=attendance]"))
                .await
                .click()
                .await
                .unwrap();
            b.click_text("Disclose and make the letter").await;
            b.wait_text("Disclosed; the letter is in the accounting.")
                .await;
            b.screenshot("disclosures").await;
            // newest first: the letter just made
            b.wait("button[data-disclosure]")
                .await
                .click()
                .await
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let files: Vec<_> = std::fs::read_dir(&b.downloads)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect();
                if let [f] = files.as_slice() {
                    if f.extension().is_some_and(|e| e == "pdf") {
                        *pdf = Some(std::fs::read(f).unwrap());
                        break;
                    }
                }
                assert!(Instant::now() < deadline, "no download: {files:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }

            b.click_text("Access reviews").await;
            b.wait_text("Emergency access to review").await;
            let review = "form[aria-label='Review this access']";
            b.select(&format!("{review} [name=outcome]"), "appropriate")
                .await;
            b.fill(review, "note", "Crisis call documented; access was needed.")
                .await;
            b.click_text("Record the review").await;
            b.wait_text("Review recorded.").await;
        }
    })
    .await;
    let after = app
        .get(Some(&sup), &format!("/clients/{client_id}/disclosures"))
        .await
        .expect(200);
    let items = after.body["items"].as_array().unwrap();
    assert_eq!(items.len(), before + 1);
    assert_eq!(items[0]["consent_id"], consent_id.to_string());
    assert_eq!(items[0]["information"], serde_json::json!(["attendance"]));
    let served = app
        .client
        .get(app.url(&format!(
            "/disclosures/{}/document",
            items[0]["id"].as_str().unwrap()
        )))
        .bearer_auth(&sup.token)
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    let served = served.bytes().await.unwrap();
    let pdf = pdf.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(
        pdf,
        served.to_vec(),
        "the file saved is the document the API serves"
    );
    let queue = app
        .get(Some(&sup), "/emergency-access?reviewed=false")
        .await
        .expect(200);
    assert!(
        queue.body["items"].as_array().unwrap().is_empty(),
        "{}",
        queue.body
    );
}
