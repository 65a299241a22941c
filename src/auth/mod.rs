//! Who is calling and what they may do (SPEC §1, §3): passwords, tokens, the `Staff`
//! extractor, throttling, and the policy every handler asks.

pub mod extractor;
pub mod gate;
pub mod password;
pub mod policy;
pub mod reset;
pub mod routes;
pub mod scope;
pub mod throttle;
pub mod tokens;

pub use extractor::{RequestMeta, Staff};
pub use policy::{Action, Role};
