//! Encryption at rest for notes: AES-256-GCM in the application, a fresh random 96-bit nonce
//! per write, the row's identity bound as associated data (a ciphertext moved to another row
//! fails to decrypt), and a key id stored beside each ciphertext so keys can rotate.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::auth::policy::{act, permit, Act, Action, Permit};
use crate::auth::Staff;
use crate::config::{parse_notes_key, ConfigError, Env};

/// What is stored: which key, the nonce, the ciphertext (with its tag).
#[derive(Debug, Clone)]
pub struct Sealed {
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl Sealed {
    /// The single-column form used for the clinical texts outside notes
    /// (`crate::notes::fields`): the key id's length (one byte), the key id, the 12-byte nonce,
    /// then the ciphertext with its tag.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = key_prefix(&self.key_id);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Parses [`Sealed::to_bytes`]; anything malformed is `Tampered`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Sealed, OpenError> {
        let (&len, rest) = bytes.split_first().ok_or(OpenError::Tampered)?;
        let len = len as usize;
        if rest.len() < len + 12 {
            return Err(OpenError::Tampered);
        }
        let key_id = std::str::from_utf8(&rest[..len]).map_err(|_| OpenError::Tampered)?;
        Ok(Sealed {
            key_id: key_id.to_string(),
            nonce: rest[len..len + 12].to_vec(),
            ciphertext: rest[len + 12..].to_vec(),
        })
    }
}

/// How a value sealed under `key_id` begins in its single-column form: a rotation finds the
/// values under other keys by this prefix.
pub fn key_prefix(key_id: &str) -> Vec<u8> {
    let id = key_id.as_bytes();
    let mut out = Vec::with_capacity(1 + id.len() + 12);
    out.push(u8::try_from(id.len()).expect("a key id is 16 hex digits"));
    out.extend_from_slice(id);
    out
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("no key with id {0} is configured")]
    UnknownKey(String),
    #[error("the ciphertext does not authenticate (tampered, moved, or wrong key)")]
    Tampered,
}

/// A short, stable, non-secret identifier of a key.
pub fn key_id(key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(key)[..8])
}

/// `GROUPWORK_NOTES_KEY` and (during a rotation) `GROUPWORK_NOTES_KEY_PREVIOUS`, for the
/// commands that need no other setting (`demo`, `rotate-notes-key`).
pub fn keys_from_env(env: &impl Env) -> Result<([u8; 32], Option<[u8; 32]>), ConfigError> {
    let current = env.get("GROUPWORK_NOTES_KEY").ok_or_else(|| ConfigError {
        var: "GROUPWORK_NOTES_KEY",
        problem: "is required".into(),
    })?;
    let current = parse_notes_key("GROUPWORK_NOTES_KEY", &current)?;
    let previous = env
        .get("GROUPWORK_NOTES_KEY_PREVIOUS")
        .map(|v| parse_notes_key("GROUPWORK_NOTES_KEY_PREVIOUS", &v))
        .transpose()?;
    Ok((current, previous))
}

/// Actions whose permit opens sealed text: what clinicians read (notes, assessments, exit
/// notes, a client's record) and the released documents of a disclosure. Never an
/// administrator's (see the test below).
pub trait OpensSealedText: Act {}

macro_rules! opens_sealed_text {
    ($($action:ident),*) => {
        $(impl OpensSealedText for act::$action {})*
        /// The actions of [`OpensSealedText`], for the test of the role table.
        pub const OPENS_SEALED_TEXT: &[Action] = &[$(Action::$action),*];
    };
}

opens_sealed_text!(
    ReadNotes,
    WriteNotes,
    CosignNote,
    ReadClientRecord,
    ReadAssessment,
    ReadDisclosures
);

/// Opens sealed clinical text. Made only by [`NotesCipher::reader`] from a [`Permit`], so a
/// function that asks for one cannot be reached by a caller the policy refuses.
#[derive(Clone)]
pub struct ClinicalReader(NotesCipher);

impl ClinicalReader {
    /// For the notes module's own maintenance (key rotation, sealing legacy text): re-sealing
    /// opens text with no caller and no permit, and never returns it.
    pub(super) fn for_maintenance(cipher: &NotesCipher) -> ClinicalReader {
        ClinicalReader(cipher.clone())
    }

    pub fn open(&self, aad: &[u8], sealed: &Sealed) -> Result<Vec<u8>, OpenError> {
        self.0.open(aad, sealed)
    }
}

#[derive(Clone)]
pub struct NotesCipher {
    current_id: String,
    keys: Vec<(String, Aes256Gcm)>,
}

impl NotesCipher {
    /// `current` encrypts; `previous` (during a rotation) only decrypts.
    pub fn new(current: &[u8; 32], previous: Option<&[u8; 32]>) -> Self {
        let mut keys = vec![(key_id(current), Aes256Gcm::new(current.into()))];
        if let Some(p) = previous {
            keys.push((key_id(p), Aes256Gcm::new(p.into())));
        }
        NotesCipher {
            current_id: keys[0].0.clone(),
            keys,
        }
    }

    pub fn current_key_id(&self) -> &str {
        &self.current_id
    }

    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Sealed {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = self.keys[0]
            .1
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        Sealed {
            key_id: self.current_id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    /// The key to clinical text, for a caller holding a permit of an action that reads it:
    /// outside the notes module, sealed text opens only through a [`ClinicalReader`].
    pub fn reader<A: OpensSealedText>(&self, _: &Permit<A>) -> ClinicalReader {
        ClinicalReader(self.clone())
    }

    /// The reader for a caller whose role holds `A`, `None` for the others: for answers that
    /// carry clinical text to the roles that read it, and the same answer without it to the rest.
    pub fn optional_reader<A: OpensSealedText>(&self, staff: &Staff) -> Option<ClinicalReader> {
        permit::<A>(staff).map(|p| self.reader(&p))
    }

    /// Decrypts; visible to the notes module alone (its key rotation and legacy sealing
    /// re-encrypt without a caller), everyone else goes through a [`ClinicalReader`].
    pub(super) fn open(&self, aad: &[u8], sealed: &Sealed) -> Result<Vec<u8>, OpenError> {
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(id, _)| *id == sealed.key_id)
            .ok_or_else(|| OpenError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.nonce.len() != 12 {
            return Err(OpenError::Tampered);
        }
        cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad,
                },
            )
            .map_err(|_| OpenError::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::{allows, Role};

    #[test]
    fn no_administrator_opens_sealed_text() {
        for action in OPENS_SEALED_TEXT {
            assert!(!allows(Role::Admin, *action), "{action:?}");
            assert!(allows(Role::Supervisor, *action), "{action:?}");
        }
    }

    #[test]
    fn round_trip_fresh_nonces_and_binding() {
        let c = NotesCipher::new(&[7; 32], None);
        let a = c.seal(b"row-1", b"secret words");
        let b = c.seal(b"row-1", b"secret words");
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_eq!(c.open(b"row-1", &a).unwrap(), b"secret words");
        assert_eq!(
            c.open(b"row-2", &a),
            Err(OpenError::Tampered),
            "moved to another row"
        );
        let mut t = a.clone();
        t.ciphertext[0] ^= 1;
        assert_eq!(c.open(b"row-1", &t), Err(OpenError::Tampered));
    }

    #[test]
    fn single_column_form_round_trips() {
        let c = NotesCipher::new(&[3; 32], None);
        let a = c.seal(b"row", b"text");
        let bytes = a.to_bytes();
        assert!(bytes.starts_with(&key_prefix(c.current_key_id())));
        let back = Sealed::from_bytes(&bytes).unwrap();
        assert_eq!(c.open(b"row", &back).unwrap(), b"text");
        assert_eq!(Sealed::from_bytes(&[]).unwrap_err(), OpenError::Tampered);
        assert_eq!(
            Sealed::from_bytes(&bytes[..20]).unwrap_err(),
            OpenError::Tampered
        );
    }

    #[test]
    fn rotation_reads_old_writes_new() {
        let old = NotesCipher::new(&[1; 32], None);
        let sealed = old.seal(b"r", b"x");
        let rotating = NotesCipher::new(&[2; 32], Some(&[1; 32]));
        assert_eq!(rotating.open(b"r", &sealed).unwrap(), b"x");
        assert_eq!(rotating.seal(b"r", b"x").key_id, key_id(&[2; 32]));
        let new_only = NotesCipher::new(&[2; 32], None);
        assert!(matches!(
            new_only.open(b"r", &sealed),
            Err(OpenError::UnknownKey(_))
        ));
    }
}
