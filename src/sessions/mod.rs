//! Sessions generated from a group's weekly schedule, and their attendance (SPEC §2).

pub mod attendance;
pub mod model;
pub mod routes;

pub use model::{Session, SessionRow};
