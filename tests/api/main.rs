//! Integration tests: the real HTTP stack against real PostgreSQL.

mod contract;
mod fixtures;
mod helpers;

mod attendance;
mod audit;
mod audit_chain;
mod auth;
mod clients;
mod consents;
mod console;
mod day;
mod db_errors;
mod demo;
mod exits;
mod exits_v2;
mod foundation;
mod groups;
mod lock_order;
mod memberships;
mod notes;
mod openapi;
mod participation;
mod records;
mod reports;
mod reports_retention;
mod resign;
mod roster;
mod rotation;
mod screenings;
mod security;
mod sessions;
mod two_instances;
mod users;
mod waitlist;
