//! Confidential session notes (SPEC §2): group notes and member notes, encrypted at rest,
//! signed, co-signed, addended, and audited on every read and write, allowed or denied.
//!
//! Access (SPEC §1): supervisors, and the therapists of the session's group; other roles
//! 403, other therapists 404. A note whose ciphertext does not open answers 409
//! `note_undecryptable` (never a 500) and is audited as `note.decrypt_failed`.

mod actions;
pub mod addenda;
pub mod crypto;
pub mod failure;
pub mod fields;
pub mod group_notes;
pub mod index;
pub mod member_notes;
pub mod model;
pub mod rotate;
