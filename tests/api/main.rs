//! Integration tests: the real HTTP stack against real PostgreSQL.

mod fixtures;
mod helpers;

mod clients;
mod demo;
mod foundation;
mod groups;
mod memberships;
mod roster;
mod screenings;
mod waitlist;
