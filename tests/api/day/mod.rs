//! Issue 11: the staff's day — the staff directory, a client's memberships, sessions across
//! groups with their documentation state, the agenda, the dashboard, the notes index,
//! sessions generated ahead, attendance ETags.

mod directory;
mod memberships;
mod sessions;
mod world;
