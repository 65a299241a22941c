//! The staff's day (SPEC §7): one's agenda and the dashboard's counts. Both are built from
//! the same SQL as the lists they summarise (`sessions::documentation`, `notes::index`, the
//! waitlist, the members' derived fields), so a count is always the length of its list.

pub mod agenda;
pub mod dashboard;
