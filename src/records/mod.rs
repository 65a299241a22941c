//! A client's own record (SPEC §2): demographics, memberships, attendance and signed member
//! notes — never a group note, never another member's name or id.

pub mod routes;
