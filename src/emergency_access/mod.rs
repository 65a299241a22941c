//! Break-glass access (42 CFR §2.51, SPEC §8): a therapist outside a client's care team grants
//! themself four hours of read access to that client's chart, with a reason; every grant waits
//! in the supervisors' review queue until one of them reviews it. The scope rule (f) that the
//! grant opens lives in `auth::scope`; the rules of a grant in `domain::emergency_access`.

pub mod model;
pub mod routes;
