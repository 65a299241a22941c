//! Checkpoints (SPEC §2 v2): a signed statement of the chain's head — "the `events`-th event
//! is `last_id` and its hash is `head_hash`" — that an administrator keeps outside the
//! database. Removing the newest events leaves a shorter chain that is still intact; only a
//! checkpoint taken earlier shows it, and only the audit key can sign one.

use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{seal, verify_chain, ExpectedHead, SEAL_WAIT_ON_VERIFY};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::schema::audit_events;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Checkpoint {
    /// Id of the newest event when the checkpoint was taken.
    pub last_id: Uuid,
    /// Number of events in the chain up to and including `last_id`.
    pub events: i64,
    /// Hex HMAC-SHA256 of that event (its chain hash).
    pub head_hash: String,
    pub signed_at: DateTime<Utc>,
    /// Hex HMAC-SHA256, under the audit key, of the four fields above.
    pub signature: String,
}

fn signature(
    key: &[u8; 32],
    last_id: Uuid,
    events: i64,
    head: &[u8],
    at: DateTime<Utc>,
) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(b"groupwork audit checkpoint v1");
    mac.update(last_id.as_bytes());
    mac.update(&events.to_be_bytes());
    mac.update(&(head.len() as u64).to_be_bytes());
    mac.update(head);
    mac.update(
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .as_bytes(),
    );
    mac.finalize().into_bytes().to_vec()
}

/// Signs the current head — the newest sealed event, after sealing what was appended until
/// now — after checking that the chain up to it is intact (a broken chain is never vouched
/// for: 409).
pub fn take(conn: &mut PgConnection, key: &[u8; 32]) -> AppResult<Checkpoint> {
    seal(conn, key, SEAL_WAIT_ON_VERIFY)?;
    let verification = verify_chain(conn, key)?;
    if !verification.intact {
        return Err(AppError::conflict(
            ErrorCode::Conflict,
            "The audit chain is broken; no checkpoint is signed for it (see GET /audit-events/verify).",
        ));
    }
    let (seq, last_id, hash): (i64, Uuid, Option<Vec<u8>>) = audit_events::table
        .filter(audit_events::hash.is_not_null())
        .order(audit_events::seq.desc())
        .select((audit_events::seq, audit_events::id, audit_events::hash))
        .first(conn)
        .optional()?
        .ok_or_else(|| {
            AppError::conflict(ErrorCode::Conflict, "The audit trail holds no event yet.")
        })?;
    let hash = hash.unwrap_or_default();
    let events: i64 = audit_events::table
        .filter(audit_events::seq.le(seq))
        .count()
        .get_result(conn)?;
    let signed_at = Utc::now().trunc_subsecs(6);
    Ok(Checkpoint {
        last_id,
        events,
        head_hash: hex::encode(&hash),
        signed_at,
        signature: hex::encode(signature(key, last_id, events, &hash, signed_at)),
    })
}

/// The head a checkpoint vouches for, once its signature is checked (422 otherwise: it was
/// not signed with this service's audit key, or a field was changed).
pub fn expected_head(key: &[u8; 32], c: &Checkpoint) -> AppResult<ExpectedHead> {
    let forged = || {
        AppError::invalid(
            "checkpoint.signature",
            "does not match: not a checkpoint signed with this service's audit key",
        )
    };
    let hash = hex::decode(&c.head_hash)
        .map_err(|_| AppError::invalid("checkpoint.head_hash", "must be hex"))?;
    let given = hex::decode(&c.signature).map_err(|_| forged())?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(&signature(key, c.last_id, c.events, &hash, c.signed_at));
    // Compare in constant time: HMAC the expected and the given value alike.
    let mut mac2 = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac2.update(&given);
    if c.events < 1 || mac.finalize() != mac2.finalize() {
        return Err(forged());
    }
    Ok(ExpectedHead {
        last_id: c.last_id,
        events: c.events,
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(key: &[u8; 32]) -> Checkpoint {
        let last_id = Uuid::new_v4();
        let at = Utc::now().trunc_subsecs(6);
        let head = [3u8; 32];
        Checkpoint {
            last_id,
            events: 12,
            head_hash: hex::encode(head),
            signed_at: at,
            signature: hex::encode(signature(key, last_id, 12, &head, at)),
        }
    }

    #[test]
    fn a_signed_checkpoint_is_accepted_and_any_change_refused() {
        let key = [5u8; 32];
        let c = sample(&key);
        let head = expected_head(&key, &c).unwrap();
        assert_eq!((head.last_id, head.events), (c.last_id, 12));
        let json = serde_json::to_string(&c).unwrap();
        let back: Checkpoint = serde_json::from_str(&json).unwrap();
        assert!(
            expected_head(&key, &back).is_ok(),
            "survives a JSON round trip"
        );
        for changed in [
            Checkpoint {
                events: 11,
                ..c.clone()
            },
            Checkpoint {
                last_id: Uuid::new_v4(),
                ..c.clone()
            },
            Checkpoint {
                head_hash: hex::encode([4u8; 32]),
                ..c.clone()
            },
            Checkpoint {
                signed_at: c.signed_at + chrono::Duration::seconds(1),
                ..c.clone()
            },
            Checkpoint {
                signature: "zz".into(),
                ..c.clone()
            },
        ] {
            assert!(expected_head(&key, &changed).is_err(), "{changed:?}");
        }
        assert!(expected_head(&[6u8; 32], &c).is_err(), "another key");
    }
}
