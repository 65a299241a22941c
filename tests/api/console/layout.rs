//! The console on a tablet, used from the keyboard: signing in needs no pointer, and each main
//! screen of each role fits a 768 px wide window without sideways scrolling and names every
//! control it offers (a label, an `aria-label` or a visible text), so a screen reader can say it.

use fantoccini::key::Key;
use serde_json::Value;

use groupwork::demo::DEMO_PASSWORD;

use super::{demo, with_browser, Browser};
use crate::helpers::TestApp;

/// Controls without an accessible name, and the page's overflow, as the browser measures them.
const AUDIT: &str = r#"
const named = (e) => (e.labels && e.labels.length > 0) || e.getAttribute('aria-label')
  || e.getAttribute('aria-labelledby') || e.getAttribute('title')
  || ((e.tagName === 'BUTTON' || e.tagName === 'A') && e.textContent.trim() !== '');
const visible = (e) => e.offsetParent !== null && e.type !== 'hidden';
const unnamed = [...document.querySelectorAll('input, select, textarea, button, a[href]')]
  .filter((e) => visible(e) && !named(e))
  .map((e) => e.outerHTML.slice(0, 120));
return {
  unnamed,
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  h1: document.querySelector('main h1, #view h1') ? 1 : 0,
};
"#;

async fn audit(b: &Browser, screen: &str) {
    // Let the screen's requests settle.
    b.wait("main h1, #view h1").await;
    for _ in 0..50 {
        if !b.text().await.contains("Loading…") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r: Value = b.js(AUDIT).await;
    assert_eq!(
        r["unnamed"],
        serde_json::json!([]),
        "{screen}: unnamed controls"
    );
    let overflow = r["overflow"].as_i64().unwrap();
    assert!(overflow <= 0, "{screen}: {overflow} px wider than a tablet");
    assert_eq!(r["h1"], 1, "{screen}: a heading");
}

/// Presses Tab until the focused element is the field named `name`.
async fn tab_to(b: &Browser, name: &str) {
    for _ in 0..15 {
        let focused = b
            .js("return document.activeElement && document.activeElement.name || ''")
            .await;
        if focused == name {
            return;
        }
        b.client
            .active_element()
            .await
            .unwrap()
            .send_keys(&Key::Tab.to_string())
            .await
            .unwrap();
    }
    panic!("Tab never reached the field {name}");
}

#[actix_web::test]
async fn a_tablet_and_a_keyboard_are_enough() {
    let app = TestApp::spawn().await;
    demo(&app).await;
    with_browser(&app, |b| async move {
        b.client.set_window_size(768, 1024).await.unwrap();
        b.goto("/").await;
        b.wait_text("Sign in to groupwork").await;
        audit(&b, "sign in").await;
        tab_to(&b, "email").await;
        let field = b.client.active_element().await.unwrap();
        field
            .send_keys("supervisor@demo.groupwork.test")
            .await
            .unwrap();
        tab_to(&b, "password").await;
        let field = b.client.active_element().await.unwrap();
        field
            .send_keys(&format!("{DEMO_PASSWORD}{}", Key::Enter))
            .await
            .unwrap();
        b.wait("#top:not([hidden])").await;
        audit(&b, "home").await;

        for (hash, screen) in [
            ("#/cosign", "co-sign queue"),
            ("#/sessions", "sessions"),
            ("#/groups", "groups"),
            ("#/clients", "clients"),
            ("#/screenings", "screenings"),
            ("#/waitlist", "waitlist"),
            ("#/approvals", "approvals"),
            ("#/reports", "reports"),
        ] {
            b.goto(&format!("/{hash}")).await;
            audit(&b, screen).await;
        }
        // A group's page and a session's page, the screens a clinician spends the day in.
        b.goto("/#/groups").await;
        let group = b
            .wait("a[href^='#/groups/']:not([href='#/groups/new'])")
            .await;
        group.click().await.unwrap();
        audit(&b, "group").await;
        b.screenshot("group-tablet").await;
        b.goto("/#/sessions").await;
        let session = b.wait("a[href^='#/sessions/']").await;
        session.click().await.unwrap();
        b.wait("table").await;
        audit(&b, "session").await;
    })
    .await;
}
