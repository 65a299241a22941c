//! Issue 11: the staff's day — the staff directory, a client's memberships, sessions across
//! groups with their documentation state, the agenda, the dashboard, the notes index,
//! sessions generated ahead, attendance ETags.

mod agenda;
mod content;
mod dashboard;
mod directory;
mod etag;
mod memberships;
mod notes;
mod schedule;
mod sessions;
mod world;
