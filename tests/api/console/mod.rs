//! The staff console in a real browser: headless Chromium driven over WebDriver (Debian's
//! `chromium` + `chromium-driver`, installed by `./dev test`), against the real server and a
//! real database. One chromedriver per test binary, started on first use and killed with the
//! binary; each test has its own browser session (its own profile) and its own database.
//!
//! Screenshots of the main screens are taken in every run and written to a folder only when
//! `GROUPWORK_SCREENSHOTS` names one (`GROUPWORK_SCREENSHOTS=docs/screenshots ./dev test console`).

#![allow(dead_code)] // helpers shared by the scenarios; not each uses every one

mod admin;
mod intake;
mod layout;
mod part2;
mod serving;
mod signin;
mod supervisor;
mod therapist;

use std::future::Future;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::panic::AssertUnwindSafe;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use futures::FutureExt;
use groupwork::demo::DEMO_PASSWORD;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestUser};

/// How long a step may wait for the page (a ceiling for polling, never a timed assertion).
const PATIENCE: Duration = Duration::from_secs(20);

/// The one chromedriver of this test binary: started on a free port from a thread that lives
/// as long as the process, with PR_SET_PDEATHSIG so that it dies with the binary.
fn driver() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut cmd = Command::new("chromedriver");
            cmd.arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                // A zone other than UTC, so that conversions to and from local times are tested.
                .env("TZ", "America/Chicago")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                    Ok(())
                });
            }
            let child = cmd.spawn();
            let _ = tx.send(child.map(|_| ()).map_err(|e| e.to_string()));
            loop {
                std::thread::park();
            }
        });
        rx.recv().unwrap().unwrap_or_else(|e| {
            panic!("chromedriver could not start ({e}): install Debian's chromium and chromium-driver (./dev test does)")
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        format!("http://127.0.0.1:{port}")
    })
}

pub struct Browser {
    pub client: Client,
    pub base: String,
    pub downloads: std::path::PathBuf,
}

fn capabilities(downloads: &std::path::Path) -> serde_json::Map<String, Value> {
    let binary = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("chromium");
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--lang=en-US", "--no-first-run",
                     "--disable-extensions", "--disable-background-networking"],
            "prefs": {
                "download.default_directory": downloads.to_string_lossy(),
                "download.prompt_for_download": false,
            },
        },
    });
    caps.as_object().unwrap().clone()
}

/// Runs `scenario` in a fresh browser session against `app`; the session is always closed,
/// also when the scenario panics (the panic is then resumed).
pub async fn with_browser<F, Fut>(app: &TestApp, scenario: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()>,
{
    let downloads = std::env::temp_dir().join(format!("gw-dl-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&downloads).unwrap();
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities(&downloads))
        .connect(driver())
        .await
        .expect("a browser session from chromedriver");
    let browser = Browser {
        client: client.clone(),
        base: app.base.clone(),
        downloads: downloads.clone(),
    };
    let outcome = AssertUnwindSafe(scenario(browser)).catch_unwind().await;
    if outcome.is_err() {
        // What the page showed when the scenario failed, for the failure's reader.
        if let Ok(png) = client.screenshot().await {
            let path = std::env::temp_dir()
                .join(format!("gw-failed-{}.png", uuid::Uuid::new_v4().simple()));
            let _ = std::fs::write(&path, png);
            eprintln!("screenshot of the failed page: {}", path.display());
        }
        if let Ok(url) = client.current_url().await {
            eprintln!("at {url}");
        }
    }
    let _ = client.close().await;
    let _ = std::fs::remove_dir_all(&downloads);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

impl Browser {
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{}", self.base, path))
            .await
            .unwrap();
    }

    /// Waits for an element matching `css`.
    pub async fn wait(&self, css: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| e.to_string());
        match found {
            Ok(el) => el,
            Err(e) => panic!(
                "no element {css}: {e}; the page shows:\n{}",
                self.page_text().await
            ),
        }
    }

    async fn page_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(e) => format!("(no page: {e})"),
        }
    }

    /// Waits for an element matching `xpath`.
    pub async fn wait_x(&self, xpath: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::XPath(xpath))
            .await
            .map_err(|e| e.to_string());
        match found {
            Ok(el) => el,
            Err(e) => panic!(
                "no element {xpath}: {e}; the page shows:\n{}",
                self.page_text().await
            ),
        }
    }

    /// Clicks the link or button whose visible text is `text`.
    pub async fn click_text(&self, text: &str) {
        let xp = format!(
            "//*[self::a or self::button or self::summary][normalize-space()={}]",
            xpath_literal(text)
        );
        self.wait_x(&xp).await.click().await.unwrap();
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Waits until the page shows `needle`.
    pub async fn wait_text(&self, needle: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = self.text().await;
            if text.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the page never showed {needle:?}; it shows:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types into the field labelled `label` (inside `scope`, a CSS selector).
    pub async fn fill(&self, scope: &str, name: &str, value: &str) {
        let el = self.wait(&format!("{scope} [name=\"{name}\"]")).await;
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.wait(css).await.select_by_value(value).await.unwrap();
    }

    pub async fn sign_in(&self, email: &str, password: &str) {
        self.goto("/").await;
        self.fill("form", "email", email).await;
        self.fill("form", "password", password).await;
        self.click_text("Sign in").await;
        self.wait("#top:not([hidden])").await;
    }

    pub async fn sign_in_demo(&self, who: &str) {
        self.sign_in(&format!("{who}@demo.groupwork.test"), DEMO_PASSWORD)
            .await;
    }

    /// A PNG of the page, kept under `$GROUPWORK_SCREENSHOTS/NAME.png` when that is set.
    pub async fn screenshot(&self, name: &str) {
        // Let fonts and layout settle: wait for no pending "Loading…" text.
        let deadline = Instant::now() + PATIENCE;
        while self.text().await.contains("Loading…") && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        if let Ok(dir) = std::env::var("GROUPWORK_SCREENSHOTS") {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }

    /// The browser's JSON result of a script.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }
}

fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else {
        format!("\"{s}\"")
    }
}

/// The demo practice, loaded into the test's database.
pub async fn demo(app: &TestApp) {
    let url = app.db_url.clone();
    let cipher = app.state.notes.clone();
    tokio::task::spawn_blocking(move || groupwork::demo::run(&url, &cipher))
        .await
        .unwrap()
        .unwrap();
}

/// A demo login as a `TestUser`, for checking through the API what the console did.
pub async fn api_login(app: &TestApp, who: &str) -> TestUser {
    let r = app
        .post(
            None,
            "/auth/login",
            json!({"email": format!("{who}@demo.groupwork.test"), "password": DEMO_PASSWORD}),
        )
        .await
        .expect(200);
    TestUser {
        id: r.body["user"]["id"].as_str().unwrap().parse().unwrap(),
        email: format!("{who}@demo.groupwork.test"),
        role: r.body["user"]["role"].as_str().unwrap().parse().unwrap(),
        token: r.body["access_token"].as_str().unwrap().to_string(),
    }
}
