//! Issue 14 point 4 (SPEC §3): logout and refresh-token reuse end the access tokens of that
//! login at once, not 15 minutes later. Other logins of the same person keep working.

use groupwork::auth::Role;
use serde_json::json;

use crate::auth::{login, pair, with_token};
use crate::helpers::{TestApp, PASSWORD};

#[actix_web::test]
async fn logout_ends_the_logins_access_tokens_at_once() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Supervisor).await;
    let (access, refresh) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    let (laptop, _) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    let me = with_token(&u, &access);
    // An access token rotated out of the same login dies with it too.
    let rotated = app
        .post(None, "/auth/refresh", json!({"refresh_token": refresh}))
        .await
        .expect(200);
    let (rotated_access, newest) = pair(&rotated);
    app.get(Some(&me), "/me").await.expect(200);
    app.post(Some(&me), "/auth/logout", json!({"refresh_token": newest}))
        .await
        .expect(204);
    // The attack as reported: the logged-out access token still read /me for 15 minutes.
    for stale in [&access, &rotated_access] {
        let r = app
            .get(Some(&with_token(&u, stale)), "/me")
            .await
            .expect_problem(401, "unauthorized");
        assert!(r.body["detail"].as_str().unwrap().contains("revoked"));
        app.get(Some(&with_token(&u, stale)), "/clients")
            .await
            .expect_problem(401, "unauthorized");
    }
    // The other login (another device) is untouched, and signing in again works.
    app.get(Some(&with_token(&u, &laptop)), "/me")
        .await
        .expect(200);
    let (again, _) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    app.get(Some(&with_token(&u, &again)), "/me")
        .await
        .expect(200);
}

#[actix_web::test]
async fn refresh_token_reuse_ends_the_logins_access_tokens_at_once() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Therapist).await;
    let (first_access, first) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    let (other_device, _) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    // The thief rotates the stolen token first and holds a fresh access token...
    let stolen = app
        .post(None, "/auth/refresh", json!({"refresh_token": first}))
        .await
        .expect(200);
    let (thief_access, _) = pair(&stolen);
    let thief = with_token(&u, &thief_access);
    app.get(Some(&thief), "/me").await.expect(200);
    // ...then the owner presents the same (now used) token: reuse, the family is revoked...
    app.post(None, "/auth/refresh", json!({"refresh_token": first}))
        .await
        .expect_problem(401, "unauthorized");
    // ...and every access token of that login stops at once, the thief's included.
    for stale in [&thief, &with_token(&u, &first_access)] {
        app.get(Some(stale), "/me")
            .await
            .expect_problem(401, "unauthorized");
    }
    app.get(Some(&with_token(&u, &other_device)), "/me")
        .await
        .expect(200);
}
