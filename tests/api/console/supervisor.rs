//! A supervisor co-signs a therapist's note from the co-sign queue, after reading it.

use super::{api_login, demo, with_browser};
use crate::helpers::TestApp;

#[actix_web::test]
async fn supervisor_cosigns_from_the_queue() {
    let app = TestApp::spawn().await;
    demo(&app).await;
    let supervisor = api_login(&app, "supervisor").await;
    let queue = app
        .get(Some(&supervisor), "/notes?awaiting_cosign=true&limit=200")
        .await
        .expect(200);
    let first = queue.body["items"].as_array().unwrap()[0].clone();
    let id = first["id"].as_str().unwrap().to_string();
    let before = queue.body["items"].as_array().unwrap().len();

    with_browser(&app, |b| {
        let id = id.clone();
        async move {
            b.sign_in_demo("supervisor").await;
            b.screenshot("home-supervisor").await;
            b.click_text("Co-sign queue").await;
            let row = format!("tr[data-note='{id}']");
            b.wait(&format!("{row} button"))
                .await
                .click()
                .await
                .unwrap();
            b.wait(&format!("{row} dl.readonly")).await;
            b.screenshot("cosign-queue").await;
            b.wait_x(&format!(
                "//tr[@data-note='{id}']//button[normalize-space()='Co-sign']"
            ))
            .await
            .click()
            .await
            .unwrap();
            b.wait_text("Co-signed.").await;
        }
    })
    .await;

    let path = if first["kind"] == "group" {
        format!(
            "/sessions/{}/group-note",
            first["session_id"].as_str().unwrap()
        )
    } else {
        format!(
            "/sessions/{}/member-notes/{}",
            first["session_id"].as_str().unwrap(),
            first["membership_id"].as_str().unwrap()
        )
    };
    let note = app.get(Some(&supervisor), &path).await.expect(200);
    assert_eq!(note.body["status"], "cosigned");
    assert_eq!(note.body["cosigned_by"], supervisor.id.to_string());
    let queue = app
        .get(Some(&supervisor), "/notes?awaiting_cosign=true&limit=200")
        .await
        .expect(200);
    let items = queue.body["items"].as_array().unwrap();
    assert_eq!(items.len(), before - 1);
    assert!(items.iter().all(|n| n["id"] != id.as_str()));
}
