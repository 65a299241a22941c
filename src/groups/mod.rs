//! Groups and their agreements (SPEC §2): configuration, status machine, versioned contracts.

pub mod contracts;
pub mod model;
pub mod routes;

pub use model::{Group, GroupRow};
