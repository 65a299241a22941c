//! Integration tests: the real HTTP stack against real PostgreSQL.

mod fixtures;
mod helpers;

mod clients;
mod foundation;
mod roster;
mod screenings;
mod waitlist;
