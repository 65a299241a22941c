//! Confidential session notes (SPEC §2): group notes and member notes, encrypted at rest,
//! signed, co-signed, addended, and audited on every read and write.

pub mod crypto;
pub mod model;
pub mod rotate;
pub mod routes;
