//! Stable pseudonyms for de-identified exports: a keyed hash of the client id. The same
//! client gets the same pseudonym in every export; without the key it cannot be reversed or
//! recomputed from a list of ids.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct Pseudonymizer {
    key: [u8; 32],
}

impl Pseudonymizer {
    /// Derives the pseudonym key from `GROUPWORK_PSEUDONYM_KEY` (its own key, so pseudonyms
    /// stay the same when the notes key rotates; SPEC §5 v2).
    pub fn from_master(master: &[u8; 32]) -> Self {
        let mut mac = HmacSha256::new_from_slice(master).expect("HMAC takes any key length");
        mac.update(b"groupwork report pseudonym v1");
        Pseudonymizer {
            key: mac.finalize().into_bytes().into(),
        }
    }

    pub fn pseudonym(&self, client_id: Uuid) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(client_id.as_bytes());
        format!("p_{}", &hex::encode(mac.finalize().into_bytes())[..20])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_distinct_and_keyed() {
        let p = Pseudonymizer::from_master(&[1; 32]);
        let id = Uuid::new_v4();
        assert_eq!(p.pseudonym(id), p.pseudonym(id));
        assert_ne!(p.pseudonym(id), p.pseudonym(Uuid::new_v4()));
        assert_ne!(
            p.pseudonym(id),
            Pseudonymizer::from_master(&[2; 32]).pseudonym(id)
        );
        assert!(!p.pseudonym(id).contains(&id.simple().to_string()[..8]));
        assert_eq!(p.pseudonym(id).len(), 22);
    }
}
