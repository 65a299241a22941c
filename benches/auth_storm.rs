//! Benchmark (not a test): `GET /me` latency alone and during a storm of logins.
//!
//!   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench auth_storm
//!   (or `./dev bench auth`)
//!
//! Creates a scratch database on DATABASE_URL's server, starts the real server on a free port
//! in this process, and measures with real HTTP: median and p99 of `/me` alone, the same while
//! 8 clients log in as fast as they can, and the logins per second achieved.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_web::web;
use diesel::prelude::*;
use groupwork::config::Settings;
use groupwork::state::AppState;
use serde_json::json;

const PASSWORD: &str = "orchid-velvet-tundra-compass-42";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// `/me` requests paced every 5 ms for `n` requests, as a front-end's many small reads would be.
async fn measure_me(client: &reqwest::Client, url: &str, token: &str, n: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    for _ in 0..n {
        tick.tick().await;
        let t = Instant::now();
        let r = client.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
        out.push(t.elapsed());
    }
    out.sort();
    out
}

fn report(label: &str, d: &[Duration]) {
    println!(
        "{label:<28} n={:<5} median={:>7.2} ms  p99={:>7.2} ms",
        d.len(),
        percentile(d, 0.5).as_secs_f64() * 1e3,
        percentile(d, 0.99).as_secs_f64() * 1e3
    );
}

#[actix_web::main]
async fn main() {
    let admin_url = std::env::var("DATABASE_URL").expect("set DATABASE_URL to a PostgreSQL server");
    let (prefix, _) = admin_url.rsplit_once('/').unwrap();
    let db = format!("gw_bench_{}", std::process::id());
    let db_url = format!("{prefix}/{db}");
    let mut admin = PgConnection::establish(&admin_url).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {db}"))
        .execute(&mut admin)
        .unwrap();
    groupwork::db::migrate(&db_url).unwrap();

    let hash = groupwork::auth::password::hash_password_blocking(PASSWORD).unwrap();
    let mut conn = PgConnection::establish(&db_url).unwrap();
    for i in 0..9 {
        diesel::sql_query(format!(
            "INSERT INTO users (id, email, display_name, role, password_hash) VALUES (gen_random_uuid(), 'u{i}@bench.test', 'U{i}', 'therapist', '{hash}')"
        ))
        .execute(&mut conn)
        .unwrap();
    }
    let env = |k: &str| match k {
        "DATABASE_URL" => Some(db_url.clone()),
        "GROUPWORK_JWT_SECRET" => Some("bench-secret-bench-secret-bench-secret-0".into()),
        "GROUPWORK_NOTES_KEY" => Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into()),
        "GROUPWORK_AUDIT_KEY" | "GROUPWORK_PSEUDONYM_KEY" => {
            Some("ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=".into())
        }
        _ => None,
    };
    let state = web::Data::new(AppState::new(Settings::from_env(&env).unwrap()));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    actix_web::rt::spawn(groupwork::app::run(state, listener, workers).unwrap());

    let client = reqwest::Client::new();
    let login_url = format!("{base}/auth/login");
    let login = {
        let client = client.clone();
        move |email: String| {
            let client = client.clone();
            let url = login_url.clone();
            async move {
                let r = client
                    .post(url)
                    .json(&json!({"email": email, "password": PASSWORD}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.json::<serde_json::Value>().await.unwrap()
            }
        }
    };
    let token = login("u0@bench.test".into()).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let me = format!("{base}/me");
    measure_me(&client, &me, &token, 200).await; // warm-up
    let alone = measure_me(&client, &me, &token, 1500).await;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let started = Instant::now();
    let storm: Vec<_> = (1..9)
        .map(|i| {
            let stop = stop.clone();
            let login = login.clone();
            actix_web::rt::spawn(async move {
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    login(format!("u{i}@bench.test")).await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = measure_me(&client, &me, &token, 1500).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut logins = 0;
    for h in storm {
        logins += h.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();

    println!("groupwork auth benchmark ({workers} workers, {workers} cores)");
    report("GET /me alone", &alone);
    report("GET /me during login storm", &during);
    println!(
        "logins during the storm: {logins} in {secs:.1} s = {:.1} logins/s (8 clients)",
        logins as f64 / secs
    );
    let ratio = percentile(&during, 0.99).as_secs_f64() / percentile(&alone, 0.99).as_secs_f64();
    println!("p99 ratio during/alone: {ratio:.2} (goal ≤ 2)");

    drop(conn);
    diesel::sql_query(format!("DROP DATABASE {db} WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();
}
