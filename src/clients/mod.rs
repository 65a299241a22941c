//! Clients: the people served (SPEC §2). Demographics only; clinical content lives in
//! screenings and notes.

pub mod model;
pub mod routes;

pub use model::{Client, ClientRow};
