//! Staff accounts (SPEC §1, §4): admins manage them; supervisors approve clinical accounts.

pub mod approvals;
pub mod directory;
pub mod model;
pub mod routes;

pub use model::{User, UserRow};
