//! Everything handlers share, built once at start-up.

use std::sync::Arc;

use crate::auth::password::Hasher;
use crate::auth::throttle::EmailKey;
use crate::auth::tokens::TokenKeys;
use crate::config::Settings;
use crate::db::{build_pool, build_read_only_pool, Db};
use crate::http::pagination::CursorKey;
use crate::notes::crypto::NotesCipher;

pub struct AppState {
    /// The primary: every write, every audit event.
    pub db: Db,
    /// Where the report endpoints read: a pool of read-only connections on the streaming
    /// replica named by `GROUPWORK_REPORTS_DATABASE_URL`, else the primary's pool.
    pub reports_db: Db,
    pub settings: Arc<Settings>,
    pub tokens: TokenKeys,
    pub hasher: Hasher,
    pub notes: NotesCipher,
    /// Seals list cursors (SPEC §3 v2: opaque, bound to the list and the caller).
    pub cursors: CursorKey,
    /// Keys the hash under which attempted emails are kept for throttling.
    pub login_emails: EmailKey,
}

impl AppState {
    pub fn new(settings: Settings) -> Self {
        let pool = build_pool(&settings.database_url, settings.pool_size);
        let db = Db::new(pool);
        let reports_db = match &settings.reports_database_url {
            Some(url) => Db::new(build_read_only_pool(url, settings.reports_pool_size)),
            None => db.clone(),
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            db,
            reports_db,
            notes: NotesCipher::new(&settings.notes_key, settings.notes_key_previous.as_ref()),
            tokens: TokenKeys::new(&settings.jwt_secret),
            cursors: CursorKey::derive(&settings.jwt_secret),
            login_emails: EmailKey::derive(&settings.jwt_secret),
            // One core is left to everything else, and the hashing threads run at the lowest
            // priority: a login storm cannot starve other requests (see benches/auth_storm.rs).
            hasher: Hasher::new(cores.saturating_sub(1).max(1)),
            settings: Arc::new(settings),
        }
    }
}
