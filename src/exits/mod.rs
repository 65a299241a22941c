//! Phased exits (SPEC §2): a member announces leaving, says goodbye over the group's
//! `exit_notice_sessions` next sessions, and leaves when the last of them is held —
//! `completed` if the minimum term was met, else `early_exit`.

pub mod plan;
pub mod rescind;
pub mod routes;
