//! Staff accounts (SPEC §1, §4): admins manage them.

pub mod model;
pub mod routes;

pub use model::{User, UserRow};
