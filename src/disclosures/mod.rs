//! Disclosures under a written consent (42 CFR Part 2, SPEC §8): each one checked against its
//! consent, logged in the accounting of disclosures (§2.24) with the SHA-256 of the document it
//! released, and that document — a PDF letter carrying the §2.32 notice — kept encrypted under
//! the notes key so that it can be served again, byte for byte.

pub mod create;
pub mod document;
pub mod letter;
pub mod list;
pub mod model;
pub mod pdf;

pub use model::Disclosure;

use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}
