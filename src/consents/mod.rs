//! Written consents to disclose (42 CFR §2.31, SPEC §8): recorded, listed per client, revoked
//! (finally). Supervisors, intake and therapists of the client's care team write; admins read.
//! Every decision is audited. The rules live in `domain::consent`.

pub mod create;
pub mod list;
pub mod model;
pub mod revoke;

pub use model::{Consent, ConsentRow};
