//! Screening interviews (SPEC §2): always before admission; valid for 90 days once accepted.
//! The assessment is clinical: admins and intake never see it, and every read is audited.

pub mod model;
pub mod routes;
pub mod waitlist;

pub use model::{Screening, ScreeningRow};
