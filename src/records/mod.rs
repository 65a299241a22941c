//! `GET /clients/{id}/record` (SPEC §2, §4): a client's own data and member notes for export,
//! never group notes, never another member's name or id.

pub mod model;
pub mod routes;
