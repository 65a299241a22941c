//! Memberships: a client's seat in one group (SPEC §2), from admission to exit.

pub mod lifecycle;
pub mod locks;
pub mod model;
pub mod of_client;
pub mod routes;
pub mod signatures;

pub use locks::lock_with_group;
pub use model::{load_views, MembershipView};
