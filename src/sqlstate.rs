//! Database errors classified by their SQLSTATE (never by message text), each with the
//! answer the API gives.
//!
//! diesel maps a few SQLSTATEs to a `DatabaseErrorKind` (23505, 23503, 23514, 40001, …) but
//! hands every other one over as `Unknown` without its code. The code is still in the libpq
//! result diesel keeps behind the error; [`sqlstate`] reads it from there.

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};

/// What a database error means for the request that met it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFailure {
    /// 40P01: PostgreSQL aborted this transaction to break a deadlock. Retry it.
    Deadlock,
    /// 40001: a serializable (or repeatable read) transaction lost to a concurrent one. Retry.
    Serialization,
    /// 55P03: a lock was not granted within `lock_timeout`.
    LockTimeout,
    /// 57014: the statement ran past `statement_timeout` (or was cancelled).
    StatementTimeout,
    /// 23505.
    UniqueViolation,
    /// 23503: a reference to a row that does not exist (or a referenced row removed).
    ForeignKeyViolation,
    /// 23514.
    CheckViolation,
    /// 23502.
    NotNullViolation,
    /// 23P01.
    ExclusionViolation,
    /// Class 22 (data exception): a number or date out of range (22003, 22008), a value
    /// PostgreSQL cannot read (22007, 22P02), a string too long (22001), …
    DataException,
    /// Class 08 (connection), 53 (insufficient resources), 57P01–57P03 (shutdown, cannot
    /// connect now), 25006 (read-only transaction, e.g. during a failover).
    Unavailable,
    /// Anything else: a defect, answered 500.
    Other,
}

impl DbFailure {
    /// Whether running the whole transaction again may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, DbFailure::Deadlock | DbFailure::Serialization)
    }

    pub fn from_sqlstate(code: &str) -> DbFailure {
        match code {
            "40P01" => DbFailure::Deadlock,
            "40001" => DbFailure::Serialization,
            "55P03" => DbFailure::LockTimeout,
            "57014" => DbFailure::StatementTimeout,
            "23505" => DbFailure::UniqueViolation,
            "23503" => DbFailure::ForeignKeyViolation,
            "23514" => DbFailure::CheckViolation,
            "23502" => DbFailure::NotNullViolation,
            "23P01" => DbFailure::ExclusionViolation,
            "25006" | "57P01" | "57P02" | "57P03" => DbFailure::Unavailable,
            c if c.starts_with("22") => DbFailure::DataException,
            c if c.starts_with("08") || c.starts_with("53") => DbFailure::Unavailable,
            _ => DbFailure::Other,
        }
    }

    /// Classifies a diesel error; `None` for errors that are not the database's
    /// (`NotFound`, a row that would not deserialise, …).
    pub fn of(e: &DieselError) -> Option<DbFailure> {
        let DieselError::DatabaseError(kind, info) = e else {
            return None;
        };
        if let Some(code) = sqlstate(info.as_ref()) {
            return Some(DbFailure::from_sqlstate(&code));
        }
        // Without a result (the connection is gone, or an error diesel made itself) the kind
        // is all there is; diesel derived it from the SQLSTATE where there was one.
        Some(match kind {
            DatabaseErrorKind::UniqueViolation => DbFailure::UniqueViolation,
            DatabaseErrorKind::ForeignKeyViolation => DbFailure::ForeignKeyViolation,
            DatabaseErrorKind::SerializationFailure => DbFailure::Serialization,
            DatabaseErrorKind::CheckViolation => DbFailure::CheckViolation,
            DatabaseErrorKind::NotNullViolation => DbFailure::NotNullViolation,
            DatabaseErrorKind::ExclusionViolation => DbFailure::ExclusionViolation,
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::ReadOnlyTransaction => DbFailure::Unavailable,
            _ => DbFailure::Other,
        })
    }
}

/// The SQLSTATE of a PostgreSQL error, read from the libpq result behind diesel's error.
///
/// diesel's PostgreSQL error information is a one-field struct around the result's non-null
/// `PGresult` pointer (diesel 2.3 `pg::connection::result::PgErrorInformation`); the only
/// other implementation it creates is a `String` for errors of its own, which has another
/// size. The pointer is used only when the value is exactly one pointer in size and libpq
/// confirms it: the result's primary message must be the very string diesel reports. A
/// future diesel that changes this shape yields `None` (and the tests of every class fail).
pub fn sqlstate(info: &dyn DatabaseErrorInformation) -> Option<String> {
    use std::ffi::CStr;
    use std::mem::{align_of_val, size_of, size_of_val};
    if size_of_val(info) != size_of::<*const pq_sys::PGresult>()
        || align_of_val(info) != size_of::<*const pq_sys::PGresult>()
    {
        return None;
    }
    // SAFETY: the value is one pointer in size and alignment, i.e. diesel's
    // `PgErrorInformation { result: RawResult(NonNull<PGresult>) }`, which owns a live result
    // for as long as `info` is borrowed. libpq's accessors only read it.
    unsafe {
        let result =
            *(info as *const dyn DatabaseErrorInformation as *const *const pq_sys::PGresult);
        if result.is_null() {
            return None;
        }
        let primary = pq_sys::PQresultErrorField(result, pq_sys::PG_DIAG_MESSAGE_PRIMARY as i32);
        if primary.is_null() || primary as *const u8 != info.message().as_ptr() {
            return None;
        }
        let code = pq_sys::PQresultErrorField(result, pq_sys::PG_DIAG_SQLSTATE as i32);
        if code.is_null() {
            return None;
        }
        CStr::from_ptr(code).to_str().ok().map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_their_class() {
        for (code, want) in [
            ("40P01", DbFailure::Deadlock),
            ("40001", DbFailure::Serialization),
            ("55P03", DbFailure::LockTimeout),
            ("57014", DbFailure::StatementTimeout),
            ("23503", DbFailure::ForeignKeyViolation),
            ("23514", DbFailure::CheckViolation),
            ("22003", DbFailure::DataException),
            ("22008", DbFailure::DataException),
            ("08006", DbFailure::Unavailable),
            ("53300", DbFailure::Unavailable),
            ("57P01", DbFailure::Unavailable),
            ("42P01", DbFailure::Other),
        ] {
            assert_eq!(DbFailure::from_sqlstate(code), want, "{code}");
        }
        assert!(DbFailure::Deadlock.is_retryable());
        assert!(DbFailure::Serialization.is_retryable());
        assert!(!DbFailure::LockTimeout.is_retryable());
    }

    #[test]
    fn an_error_diesel_made_itself_has_no_sqlstate() {
        let info: Box<dyn DatabaseErrorInformation + Send + Sync> =
            Box::new("Received an empty query".to_string());
        assert_eq!(sqlstate(info.as_ref()), None);
    }
}
