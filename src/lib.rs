//! groupwork: the backend of a treatment center's group-therapy practice.
//! See `../shared/SPEC.md` for the contract and `README.md` for the architecture.

pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clients;
pub mod config;
pub mod consents;
pub mod console;
pub mod day;
pub mod db;
pub mod demo;
pub mod disclosures;
pub mod domain;
pub mod emergency_access;
pub mod error;
pub mod exits;
pub mod groups;
pub mod health;
pub mod housekeeping;
pub mod http;
pub mod memberships;
pub mod notes;
pub mod openapi;
pub mod records;
pub mod reports;
pub mod roster;
pub mod routes;
pub mod schema;
pub mod screenings;
pub mod sessions;
pub mod sqlstate;
pub mod state;
pub mod users;
