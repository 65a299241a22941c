//! Sessions generated from a group's weekly schedule, and their attendance (SPEC §2); the
//! cross-group session lists and their documentation state (SPEC §7).

pub mod attendance;
pub mod documentation;
pub mod get;
pub mod horizon;
pub mod list;
pub mod model;
pub mod reschedule;
pub mod routes;

pub use model::{Session, SessionRow};
