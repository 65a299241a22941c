//! The console's files over HTTP: embedded, typed, revalidated, and under a strict policy.

use crate::helpers::TestApp;

async fn raw(app: &TestApp, path: &str, if_none_match: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{}", app.base, path));
    if let Some(tag) = if_none_match {
        req = req.header("if-none-match", tag);
    }
    req.send().await.unwrap()
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .to_str()
        .unwrap()
        .to_string()
}

#[actix_web::test]
async fn the_page_and_its_modules_are_served_with_a_strict_policy() {
    let app = TestApp::spawn().await;
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/console/js/app.js", "text/javascript; charset=utf-8"),
        ("/console/app.css", "text/css; charset=utf-8"),
        ("/console/favicon.svg", "image/svg+xml"),
        ("/api/v1/docs", "text/html; charset=utf-8"),
    ] {
        let res = raw(&app, path, None).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(header(&res, "content-type"), content_type, "{path}");
        let csp = header(&res, "content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert_eq!(header(&res, "x-frame-options"), "DENY");
        // SPEC §3 (v2): everything under /api/v1 is no-store, the reference page included
        let cache = if path.starts_with("/api/v1/") {
            "no-store"
        } else {
            "no-cache"
        };
        assert_eq!(header(&res, "cache-control"), cache, "{path}");
        let etag = header(&res, "etag");
        let again = raw(&app, path, Some(&etag)).await;
        assert_eq!(again.status(), 304, "{path} revalidates");
        assert_eq!(header(&again, "etag"), etag);
        let stale = raw(&app, path, Some("\"other\"")).await;
        assert_eq!(stale.status(), 200, "{path} with a stale tag");
    }
    let missing = raw(&app, "/console/js/nope.js", None).await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().contains_key("content-security-policy"));
}

/// No inline script or style in the pages, and no file names another origin: the console and
/// the API reference work offline.
#[actix_web::test]
async fn nothing_is_inline_and_nothing_comes_from_elsewhere() {
    let app = TestApp::spawn().await;
    for (path, body) in groupwork::console::FILES {
        let text = String::from_utf8_lossy(body);
        for needle in ["http://", "https://", "//cdn", "unpkg", "jsdelivr"] {
            let allowed = needle == "http://" && text.contains("http://www.w3.org/2000/svg");
            let count = text.matches(needle).count()
                - if allowed {
                    text.matches("http://www.w3.org/2000/svg").count()
                } else {
                    0
                };
            assert_eq!(count, 0, "{path} names another origin ({needle})");
        }
        if path.ends_with(".html") {
            assert!(!text.contains("<script>"), "{path} has an inline script");
            assert!(!text.contains("<style"), "{path} has an inline style");
            assert!(!text.contains(" style="), "{path} has a style attribute");
            assert!(!text.contains(" onclick="), "{path} has an inline handler");
        }
        let res = raw(&app, &format!("/console/{path}"), None).await;
        assert_eq!(res.status(), 200, "{path}");
    }
}
