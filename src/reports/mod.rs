//! Attendance and retention reports (SPEC §5), for administrators and supervisors. Every
//! export is an audit event naming its filters. Definitions are in README.md ("Reports").

pub mod attendance;
pub mod pseudonym;
pub mod retention;
pub mod stream;

use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, Deserialize, Default, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Json,
    Csv,
}

/// `from` ≤ `to` when both are given.
pub fn check_window(from: Option<NaiveDate>, to: Option<NaiveDate>) -> AppResult<()> {
    match (from, to) {
        (Some(f), Some(t)) if f > t => Err(AppError::invalid("to", "must not be before from")),
        _ => Ok(()),
    }
}

/// A SQL literal for an optional, already-typed value (dates and uuids only: never free text).
pub(crate) fn literal<T: std::fmt::Display>(v: Option<T>, cast: &str) -> String {
    match v {
        Some(v) => format!("'{v}'::{cast}"),
        None => format!("NULL::{cast}"),
    }
}
