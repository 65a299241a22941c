//! Integration tests: the real HTTP stack against real PostgreSQL.

mod contract;
mod fixtures;
mod helpers;

mod attendance;
mod audit;
mod audit_chain;
mod auth;
mod clients;
mod composition;
mod consents;
mod console;
mod day;
mod db_errors;
mod demo;
mod effective_dates;
mod exits;
mod exits_v2;
mod foundation;
mod groups;
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
mod users;
mod void_notes;
mod waitlist;
