//! Integration tests: the real HTTP stack against real PostgreSQL.

mod helpers;

mod foundation;
