//! Phased exits (SPEC §2): a member announces leaving, says goodbye over the group's
//! `exit_notice_sessions` next sessions, and leaves when the last of them is held —
//! `completed` if the minimum term was met and the member attended at least the group's
//! `completion_attendance_rate` of the sessions held while seated, else `early_exit`.

pub mod plan;
pub mod rescind;
pub mod routes;
