//! Attendance and retention reports (SPEC §5), for administrators and supervisors. Every
//! export is an audit event naming its filters. Definitions: docs/reports.md (README
//! "Reports: what the numbers mean") and `crate::domain::retention`.

pub mod attendance;
pub mod pseudonym;
pub mod retention;
pub mod rows;
pub mod stream;
pub mod summary;

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

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }
}

/// `from` ≤ `to` when both are given.
pub fn check_window(from: Option<NaiveDate>, to: Option<NaiveDate>) -> AppResult<()> {
    match (from, to) {
        (Some(f), Some(t)) if f > t => Err(AppError::invalid("to", "must not be before from")),
        _ => Ok(()),
    }
}

/// `attendance_2026-01-01_2026-03-31.csv`; an open side of the window reads `all`.
pub fn filename(report: &str, from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    let side = |d: Option<NaiveDate>| d.map_or_else(|| "all".to_string(), |d| d.to_string());
    format!("{report}_{}_{}.csv", side(from), side(to))
}

/// A SQL literal for an optional, already-typed value (dates and uuids only: never free text).
pub(crate) fn literal<T: std::fmt::Display>(v: Option<T>, cast: &str) -> String {
    match v {
        Some(v) => format!("'{v}'::{cast}"),
        None => format!("NULL::{cast}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_name_the_window() {
        let d = |s: &str| s.parse::<NaiveDate>().ok();
        assert_eq!(
            filename("attendance", d("2026-01-01"), d("2026-03-31")),
            "attendance_2026-01-01_2026-03-31.csv"
        );
        assert_eq!(
            filename("retention", None, d("2026-03-31")),
            "retention_all_2026-03-31.csv"
        );
    }
}
