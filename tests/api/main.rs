//! Integration tests: the real HTTP stack against real PostgreSQL.

mod fixtures;
mod helpers;

mod foundation;
mod roster;
