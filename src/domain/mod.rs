//! Pure rules of the practice, unit-tested without a database.

pub mod client;
pub mod email;
pub mod screening;
pub mod text;
