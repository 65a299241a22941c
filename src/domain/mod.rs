//! Pure rules of the practice, unit-tested without a database.

pub mod email;
pub mod text;
