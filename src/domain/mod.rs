//! Pure rules of the practice, unit-tested without a database.

pub mod admission;
pub mod agreement;
pub mod attendance;
pub mod client;
pub mod composition;
pub mod consent;
pub mod email;
pub mod emergency_access;
pub mod group;
pub mod membership;
pub mod note;
pub mod participation;
pub mod redact;
pub mod reschedule;
pub mod retention;
pub mod schedule;
pub mod screening;
pub mod session;
pub mod text;
pub mod validation;
