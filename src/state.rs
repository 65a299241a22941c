//! Everything handlers share, built once at start-up.

use std::sync::Arc;

use crate::auth::password::Hasher;
use crate::auth::tokens::TokenKeys;
use crate::config::Settings;
use crate::db::{build_pool, Db};

pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub tokens: TokenKeys,
    pub hasher: Hasher,
}

impl AppState {
    pub fn new(settings: Settings) -> Self {
        let pool = build_pool(&settings.database_url, settings.pool_size);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            db: Db::new(pool),
            tokens: TokenKeys::new(&settings.jwt_secret),
            hasher: Hasher::new(cores),
            settings: Arc::new(settings),
        }
    }
}
