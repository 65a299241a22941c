//! Test harness: every test gets its own database, created from a migrated template, and a
//! real server bound to a free port. Staff are created straight in the database (with one
//! precomputed argon2id hash) and receive real access tokens.

#![allow(dead_code)] // shared by every test module; not each uses every helper

use std::net::TcpListener;
use std::sync::OnceLock;

use actix_web::web;
use diesel::prelude::*;
use diesel::sql_types::Text;
use groupwork::auth::Role;
use groupwork::config::Settings;
use groupwork::state::AppState;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const PASSWORD: &str = "orchid-velvet-tundra-compass-42";
pub const NOTES_KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const AUDIT_KEY_B64: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
pub const PSEUDONYM_KEY_B64: &str = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";

fn admin_url() -> String {
    // before any connection of this process (see `init_tls`)
    groupwork::db::init_tls();
    std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a PostgreSQL server (use ./dev test)")
}

/// URL of another database on the same server.
pub fn url_for(db: &str) -> String {
    let base = admin_url();
    let (prefix, rest) = base
        .rsplit_once('/')
        .expect("DATABASE_URL has a database name");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{prefix}/{db}{query}")
}

fn migrations_fingerprint() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut entries: Vec<_> = walk(&dir);
    entries.sort();
    let mut h = Sha256::new();
    for p in entries {
        h.update(p.to_string_lossy().as_bytes());
        h.update(std::fs::read(&p).unwrap());
    }
    hex::encode(&h.finalize()[..6])
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    datname: String,
}

/// Creates the migrated template once per migration set, safely across test processes.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("gw_tpl_{}", migrations_fingerprint());
        let mut conn = PgConnection::establish(&admin_url()).expect("connect to DATABASE_URL");
        diesel::sql_query("SELECT pg_advisory_lock(4242)")
            .execute(&mut conn)
            .unwrap();
        let exists = !diesel::sql_query(format!(
            "SELECT datname FROM pg_database WHERE datname = '{name}'"
        ))
        .load::<Name>(&mut conn)
        .unwrap()
        .is_empty();
        if !exists {
            let building = format!("{name}_building");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .execute(&mut conn)
                .unwrap();
            diesel::sql_query(format!("CREATE DATABASE {building}"))
                .execute(&mut conn)
                .unwrap();
            groupwork::db::migrate(&url_for(&building)).expect("migrations apply");
            diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
                .execute(&mut conn)
                .unwrap();
        }
        diesel::sql_query("SELECT pg_advisory_unlock(4242)")
            .execute(&mut conn)
            .unwrap();
        name
    })
}

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| groupwork::auth::password::hash_password_blocking(PASSWORD).unwrap())
}

pub struct TestApp {
    pub base: String,
    pub db_name: String,
    pub db_url: String,
    pub state: web::Data<AppState>,
    pub client: reqwest::Client,
    /// Whether dropping this handle drops the database (not for a second instance over it).
    pub owns_db: bool,
    /// Every response of an `/api/v1` operation is checked against the OpenAPI document
    /// (status documented, content type, body valid against its schema). On in
    /// `tests/api/openapi.rs`; to be switched on for the whole suite once every module passes.
    pub check_contract: bool,
}

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub token: String,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "not problem+json: {}",
            self.text
        );
        assert_eq!(
            self.body["code"], code,
            "unexpected code; body: {}",
            self.text
        );
        self
    }

    /// Asserts a 422 `validation_failed` whose `errors` name `field`.
    #[track_caller]
    pub fn expect_invalid(self, field: &str) -> Self {
        let r = self.expect_problem(422, "validation_failed");
        let named = r.body["errors"]
            .as_array()
            .is_some_and(|errors| errors.iter().any(|e| e["field"] == field));
        assert!(named, "no error naming `{field}`: {}", r.text);
        r
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
        let template = template();
        let db_name = format!("gwt_{}", Uuid::new_v4().simple());
        {
            let mut conn = PgConnection::establish(&admin_url()).unwrap();
            diesel::sql_query(format!("CREATE DATABASE {db_name} TEMPLATE {template}"))
                .execute(&mut conn)
                .unwrap();
        }
        let db_url = url_for(&db_name);
        let env = |k: &str| match k {
            "DATABASE_URL" => Some(db_url.clone()),
            "GROUPWORK_JWT_SECRET" => Some(JWT_SECRET.into()),
            "GROUPWORK_NOTES_KEY" => Some(NOTES_KEY_B64.into()),
            "GROUPWORK_AUDIT_KEY" => Some(AUDIT_KEY_B64.into()),
            "GROUPWORK_PSEUDONYM_KEY" => Some(PSEUDONYM_KEY_B64.into()),
            "GROUPWORK_DB_POOL_SIZE" => Some("8".into()),
            _ => None,
        };
        let mut settings = Settings::from_env(&env).unwrap();
        customize(&mut settings);
        let state = web::Data::new(AppState::new(settings));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = groupwork::app::run(state.clone(), listener, 2).unwrap();
        actix_web::rt::spawn(server);
        TestApp {
            base,
            db_name,
            db_url,
            state,
            client: reqwest::Client::new(),
            owns_db: true,
            check_contract: true,
        }
    }

    /// A second `serve` instance over the same database (its own pool, its own process
    /// state), as behind a load balancer.
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(|_| {}).await
    }

    /// [`TestApp::another_instance`] with other settings (e.g. after a key rotation).
    pub async fn another_instance_with(&self, customize: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = (*self.state.settings).clone();
        customize(&mut settings);
        let state = web::Data::new(AppState::new(settings));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = groupwork::app::run(state.clone(), listener, 2).unwrap();
        actix_web::rt::spawn(server);
        TestApp {
            base,
            db_name: self.db_name.clone(),
            db_url: self.db_url.clone(),
            state,
            client: reqwest::Client::new(),
            owns_db: false,
            check_contract: self.check_contract,
        }
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.db_url).unwrap()
    }

    /// A staff member of `role`, created in the database, with a fresh access token.
    pub async fn staff(&self, role: Role) -> TestUser {
        let id = Uuid::new_v4();
        let email = format!(
            "{}-{}@clinic.test",
            role.as_str(),
            &id.simple().to_string()[..8]
        );
        {
            use groupwork::schema::users;
            let mut conn = self.conn();
            diesel::insert_into(users::table)
                .values((
                    users::id.eq(id),
                    users::email.eq(&email),
                    users::display_name.eq(format!("Test {}", role.as_str())),
                    users::role.eq(role.as_str()),
                    users::password_hash.eq(password_hash()),
                ))
                .execute(&mut conn)
                .unwrap();
        }
        // A login of its own (a `sid` no refresh token shares), as if just signed in.
        let token = self
            .state
            .tokens
            .issue(id, role.as_str(), 0, Uuid::new_v4())
            .unwrap();
        TestUser {
            id,
            email,
            role,
            token,
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/api/") || path.starts_with("/healthz") || path.starts_with("/readyz")
        {
            format!("{}{}", self.base, path)
        } else {
            format!("{}/api/v1{}", self.base, path)
        }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let (client, req) = req.build_split();
        let req = req.expect("request builds");
        let method = req.method().as_str().to_string();
        let path = req.url().path().to_string();
        let res = client.execute(req).await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        if self.check_contract {
            let content_type = headers
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            if let Err(e) =
                crate::contract::contract().check(&method, &path, status, content_type, &text)
            {
                panic!("the response does not match the OpenAPI document: {e}");
            }
        }
        Resp {
            status,
            headers,
            text,
            body,
        }
    }

    fn auth(req: reqwest::RequestBuilder, user: Option<&TestUser>) -> reqwest::RequestBuilder {
        match user {
            Some(u) => req.bearer_auth(&u.token),
            None => req,
        }
    }

    pub async fn get(&self, user: Option<&TestUser>, path: &str) -> Resp {
        self.send(Self::auth(self.client.get(self.url(path)), user))
            .await
    }

    /// A GET whose body is binary (e.g. a PDF): status, headers and the bytes.
    pub async fn get_bytes(
        &self,
        user: Option<&TestUser>,
        path: &str,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let res = Self::auth(self.client.get(self.url(path)), user)
            .send()
            .await
            .expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body read").to_vec();
        (status, headers, bytes)
    }

    pub async fn post(&self, user: Option<&TestUser>, path: &str, body: Value) -> Resp {
        self.send(Self::auth(
            self.client.post(self.url(path)).json(&body),
            user,
        ))
        .await
    }

    pub async fn put(&self, user: Option<&TestUser>, path: &str, body: Value) -> Resp {
        self.send(Self::auth(
            self.client.put(self.url(path)).json(&body),
            user,
        ))
        .await
    }

    pub async fn patch(
        &self,
        user: Option<&TestUser>,
        path: &str,
        body: Value,
        if_match: Option<&str>,
    ) -> Resp {
        let mut req = Self::auth(self.client.patch(self.url(path)).json(&body), user);
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        self.send(req).await
    }

    /// Audit events of `action`, oldest first, read straight from the table.
    pub fn audit_actions(&self, action: &str) -> Vec<(Option<Uuid>, String, Option<Uuid>, Value)> {
        use groupwork::schema::audit_events as ae;
        ae::table
            .filter(ae::action.eq(action))
            .order(ae::seq.asc())
            .select((ae::actor_id, ae::outcome, ae::resource_id, ae::details))
            .load(&mut self.conn())
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if !self.owns_db {
            return;
        }
        if let Ok(mut conn) = PgConnection::establish(&admin_url()) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.db_name
            ))
            .execute(&mut conn);
        }
    }
}

/// A reader of sealed text under `cipher`, as a supervisor's permit gives one: tests that
/// check what the database holds go through the same policy as a handler.
pub fn supervisor_reader<A>(
    cipher: &groupwork::notes::crypto::NotesCipher,
) -> groupwork::notes::crypto::ClinicalReader
where
    A: groupwork::notes::crypto::OpensSealedText,
{
    use groupwork::auth::extractor::{RequestMeta, Staff};
    let supervisor = Staff {
        id: Uuid::new_v4(),
        role: Role::Supervisor,
        email: "supervisor@clinic.test".into(),
        display_name: "Test supervisor".into(),
        meta: RequestMeta {
            request_id: "test".into(),
            ip: None,
        },
    };
    let permit = groupwork::auth::policy::permit::<A>(&supervisor).expect("a supervisor's permit");
    cipher.reader(&permit)
}
