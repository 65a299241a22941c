//! Signing in and out in the browser; a refused password is shown; the token is in memory only.

use super::{demo, with_browser};
use crate::helpers::TestApp;

#[actix_web::test]
async fn sign_in_refusal_and_sign_out() {
    let app = TestApp::spawn().await;
    demo(&app).await;
    with_browser(&app, |b| async move {
        b.goto("/").await;
        b.wait_text("Sign in to groupwork").await;
        b.screenshot("sign-in").await;
        b.fill("form", "email", "therapist@demo.groupwork.test")
            .await;
        b.fill("form", "password", "not-the-password").await;
        b.click_text("Sign in").await;
        b.wait_text("do not match an active account").await;
        assert_eq!(
            b.wait("[name=password]")
                .await
                .attr("aria-invalid")
                .await
                .unwrap(),
            None
        );

        b.sign_in_demo("therapist").await;
        b.wait_text("Good day, ").await;
        b.screenshot("home-therapist").await;
        // The access token is nowhere in the browser's storage.
        let stored = b
            .js("return JSON.stringify({l: {...localStorage}, s: {...sessionStorage}})")
            .await;
        assert!(!stored.as_str().unwrap().contains("eyJ"), "{stored}");

        b.click_text("Sign out").await;
        b.wait_text("You have signed out.").await;
        let stored = b.js("return sessionStorage.length").await;
        assert_eq!(stored, 0);
    })
    .await;
}
