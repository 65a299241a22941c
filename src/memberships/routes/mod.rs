//! `POST /groups/{id}/members`, `GET /groups/{id}/members`, `GET /memberships/{id}`,
//! `POST /memberships/{id}/sign|discharge|withdraw`.
//!
//! One file per action (or small group of actions); the handlers are re-exported here, where
//! the route lists name them.

mod admission;
mod exit;
mod read;
mod signing;

pub use admission::*;
pub use exit::*;
pub use read::*;
pub use signing::*;
