//! The audit trail (SPEC §2): append-only (a trigger refuses UPDATE/DELETE, and the serving
//! role may not disable it), each event chained to the one before by an HMAC-SHA256 under
//! `GROUPWORK_AUDIT_KEY`, written in the same transaction as the change it records.
//! `details` never carries note or assessment content.
//!
//! What the chain proves: without the audit key, nobody — not even the database's owner — can
//! change, insert or remove an event in the middle without `verify` pointing at it, since the
//! later hashes cannot be recomputed. Removing the newest events leaves a shorter chain that
//! is intact; a checkpoint kept outside the database (`checkpoint`) catches that.

pub mod buffer;
pub mod bulk;
pub mod checkpoint;
pub mod routes;

use std::sync::RwLock;

use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::Role;
use crate::error::{AppError, AppResult};
use crate::schema::audit_events;

type HmacSha256 = Hmac<Sha256>;

/// The audit key of this process: installed once at start-up (`AppState::new`, and the
/// commands that write events) rather than carried by every `AuditCtx`, because events are
/// written from everywhere; the key itself never reaches the database.
static AUDIT_KEY: RwLock<Option<[u8; 32]>> = RwLock::new(None);

pub fn install_key(key: [u8; 32]) {
    *AUDIT_KEY.write().unwrap_or_else(|e| e.into_inner()) = Some(key);
}

fn installed_key() -> AppResult<[u8; 32]> {
    AUDIT_KEY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("GROUPWORK_AUDIT_KEY is not installed")))
}

/// Serialises writers so that each event chains to its true predecessor.
const CHAIN_LOCK_KEY: i64 = 0x6772_6f75_7061_7564; // "groupaud"
pub const GENESIS_HASH: [u8; 32] = [0; 32];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        }
    }
}

/// Who did it, from where, in which request.
#[derive(Debug, Clone)]
pub struct AuditCtx {
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<Role>,
    pub request_id: String,
    pub ip: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub outcome: String,
    pub request_id: String,
    pub ip: Option<String>,
    pub details: Value,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewAuditRow<'a> {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    actor_role: Option<&'a str>,
    action: &'a str,
    resource_type: &'a str,
    resource_id: Option<Uuid>,
    outcome: &'a str,
    request_id: &'a str,
    ip: Option<&'a str>,
    details: &'a Value,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

/// JSON with object keys sorted at every depth, so the hash does not depend on how
/// PostgreSQL's jsonb happens to order keys.
fn canonical_json(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&map[k])))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

/// How an event's hash is computed: keyed (v2), or the plain SHA-256 of events written
/// before the chain was keyed, accepted only as the chain's oldest part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hashing<'k> {
    Keyed(&'k [u8; 32]),
    Legacy,
}

#[allow(clippy::too_many_arguments)]
fn event_hash(
    hashing: Hashing<'_>,
    prev_hash: &[u8],
    id: Uuid,
    occurred_at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    actor_role: Option<&str>,
    action: &str,
    resource_type: &str,
    resource_id: Option<Uuid>,
    outcome: &str,
    request_id: &str,
    ip: Option<&str>,
    details: &Value,
) -> Vec<u8> {
    let opt = |o: Option<String>| o.unwrap_or_default();
    let fields = [
        id.to_string(),
        occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        opt(actor_id.map(|u| u.to_string())),
        opt(actor_role.map(str::to_owned)),
        action.to_owned(),
        resource_type.to_owned(),
        opt(resource_id.map(|u| u.to_string())),
        outcome.to_owned(),
        request_id.to_owned(),
        opt(ip.map(str::to_owned)),
        canonical_json(details),
    ];
    let mut message = Vec::with_capacity(256);
    message.extend_from_slice(prev_hash);
    for f in &fields {
        message.extend_from_slice(&(f.len() as u64).to_be_bytes());
        message.extend_from_slice(f.as_bytes());
    }
    match hashing {
        Hashing::Keyed(key) => {
            let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("any key length");
            mac.update(b"groupwork audit event v2");
            mac.update(&message);
            mac.finalize().into_bytes().to_vec()
        }
        Hashing::Legacy => Sha256::digest(&message).to_vec(),
    }
}

impl AuditRow {
    fn expected_hash(&self, hashing: Hashing<'_>, prev_hash: &[u8]) -> Vec<u8> {
        event_hash(
            hashing,
            prev_hash,
            self.id,
            self.occurred_at,
            self.actor_id,
            self.actor_role.as_deref(),
            &self.action,
            &self.resource_type,
            self.resource_id,
            &self.outcome,
            &self.request_id,
            self.ip.as_deref(),
            &self.details,
        )
    }
}

impl AuditCtx {
    /// Records one event in the caller's transaction: at its end when that transaction is a
    /// [`buffer::transaction`] (every `Db::tx`), else at once. (Called outside a transaction,
    /// it opens its own: the chain lock must be held until the row is committed, or two
    /// writers could chain to the same predecessor.)
    pub fn record(
        &self,
        conn: &mut PgConnection,
        action: &str,
        resource_type: &str,
        resource_id: Option<Uuid>,
        outcome: Outcome,
        details: Value,
    ) -> AppResult<()> {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        let in_transaction = AnsiTransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth()
            .is_ok_and(|depth| depth.is_some());
        if in_transaction {
            // Inside `buffer::transaction` the event waits for the end of the transaction.
            let pending = buffer::Pending {
                ctx: self.clone(),
                action: action.to_owned(),
                resource_type: resource_type.to_owned(),
                resource_id,
                outcome,
                details,
            };
            match buffer::defer(pending) {
                None => Ok(()),
                Some(p) => self.append(
                    conn,
                    action,
                    resource_type,
                    resource_id,
                    outcome,
                    &p.details,
                ),
            }
        } else {
            conn.transaction(|conn| {
                self.append(conn, action, resource_type, resource_id, outcome, &details)
            })
        }
    }

    pub(crate) fn append(
        &self,
        conn: &mut PgConnection,
        action: &str,
        resource_type: &str,
        resource_id: Option<Uuid>,
        outcome: Outcome,
        details: &Value,
    ) -> AppResult<()> {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(CHAIN_LOCK_KEY)
            .execute(conn)?;
        let prev_hash: Vec<u8> = audit_events::table
            .select(audit_events::hash)
            .order(audit_events::seq.desc())
            .first(conn)
            .optional()?
            .unwrap_or_else(|| GENESIS_HASH.to_vec());
        let id = Uuid::new_v4();
        // PostgreSQL keeps microseconds; hash what will be read back.
        let occurred_at = Utc::now().trunc_subsecs(6);
        let role = self.actor_role.map(Role::as_str);
        let key = installed_key()?;
        let hash = event_hash(
            Hashing::Keyed(&key),
            &prev_hash,
            id,
            occurred_at,
            self.actor_id,
            role,
            action,
            resource_type,
            resource_id,
            outcome.as_str(),
            &self.request_id,
            self.ip.as_deref(),
            details,
        );
        diesel::insert_into(audit_events::table)
            .values(NewAuditRow {
                id,
                occurred_at,
                actor_id: self.actor_id,
                actor_role: role,
                action,
                resource_type,
                resource_id,
                outcome: outcome.as_str(),
                request_id: &self.request_id,
                ip: self.ip.as_deref(),
                details,
                prev_hash,
                hash,
            })
            .execute(conn)?;
        Ok(())
    }

    pub fn allowed(
        &self,
        conn: &mut PgConnection,
        action: &str,
        resource_type: &str,
        resource_id: Option<Uuid>,
        details: Value,
    ) -> AppResult<()> {
        self.record(
            conn,
            action,
            resource_type,
            resource_id,
            Outcome::Allowed,
            details,
        )
    }

    pub fn denied(
        &self,
        conn: &mut PgConnection,
        action: &str,
        resource_type: &str,
        resource_id: Option<Uuid>,
        details: Value,
    ) -> AppResult<()> {
        self.record(
            conn,
            action,
            resource_type,
            resource_id,
            Outcome::Denied,
            details,
        )
    }
}

/// Result of re-walking the chain.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub intact: bool,
    pub events_checked: i64,
    pub first_broken_id: Option<Uuid>,
    /// With a checkpoint only: whether the chain still holds the checkpoint's head at its
    /// position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint_ok: Option<bool>,
    /// Events at the start of the chain written before it was keyed (plain SHA-256 of an
    /// earlier version): accepted only as its oldest part and only when a keyed event follows
    /// them, whose HMAC covers their head.
    pub unkeyed_events: i64,
}

/// A head the chain must still hold: the `events`-th event has id `last_id` and `hash`.
#[derive(Debug, Clone)]
pub struct ExpectedHead {
    pub last_id: Uuid,
    pub events: i64,
    pub hash: Vec<u8>,
}

/// Recomputes every hash in order, in batches so memory stays flat.
pub fn verify_chain(conn: &mut PgConnection, key: &[u8; 32]) -> AppResult<Verification> {
    verify_against(conn, key, None)
}

/// Re-walks the chain; with `head`, also checks that the chain still holds it (an event
/// removed from the end, or the whole tail replaced, shows here and nowhere else).
pub fn verify_against(
    conn: &mut PgConnection,
    key: &[u8; 32],
    head: Option<&ExpectedHead>,
) -> AppResult<Verification> {
    const BATCH: i64 = 2000;
    let mut prev = GENESIS_HASH.to_vec();
    let mut last_seq = 0i64;
    let mut checked = 0i64;
    let mut unkeyed = 0i64;
    let mut keyed_seen = false;
    let mut first_unkeyed: Option<Uuid> = None;
    let mut head_seen = false;
    let broken = |checked, id, unkeyed| Verification {
        intact: false,
        events_checked: checked,
        first_broken_id: Some(id),
        checkpoint_ok: head.map(|_| false),
        unkeyed_events: unkeyed,
    };
    loop {
        let rows: Vec<AuditRow> = audit_events::table
            .filter(audit_events::seq.gt(last_seq))
            .order(audit_events::seq.asc())
            .limit(BATCH)
            .select(AuditRow::as_select())
            .load(conn)?;
        if rows.is_empty() {
            if let (false, Some(first)) = (keyed_seen, first_unkeyed) {
                // Unkeyed events are vouched for only by the keyed event after them (its HMAC
                // covers their head): a chain of unkeyed events alone could have been
                // recomputed by anyone.
                return Ok(broken(checked, first, unkeyed));
            }
            let checkpoint_ok = head.map(|_| head_seen);
            return Ok(Verification {
                // fewer events than the checkpoint counted: the newest were removed
                intact: checkpoint_ok != Some(false),
                events_checked: checked,
                first_broken_id: None,
                checkpoint_ok,
                unkeyed_events: unkeyed,
            });
        }
        for row in &rows {
            checked += 1;
            if row.prev_hash != prev {
                return Ok(broken(checked, row.id, unkeyed));
            }
            if row.expected_hash(Hashing::Keyed(key), &prev) == row.hash {
                keyed_seen = true;
            } else if !keyed_seen && row.expected_hash(Hashing::Legacy, &prev) == row.hash {
                unkeyed += 1;
                first_unkeyed.get_or_insert(row.id);
            } else {
                return Ok(broken(checked, row.id, unkeyed));
            }
            if let Some(h) = head {
                if checked == h.events {
                    if row.id != h.last_id || row.hash != h.hash {
                        return Ok(broken(checked, row.id, unkeyed));
                    }
                    head_seen = true;
                }
            }
            prev = row.hash.clone();
            last_seq = row.seq;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[1,{"z":1,"y":2}],"c":"x"}}"#).unwrap();
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}"#
        );
    }

    #[test]
    fn hash_covers_every_field() {
        let t = Utc::now().trunc_subsecs(6);
        let id = Uuid::new_v4();
        let key = [9u8; 32];
        let base = event_hash(
            Hashing::Keyed(&key),
            &GENESIS_HASH,
            id,
            t,
            None,
            None,
            "a",
            "r",
            None,
            "allowed",
            "req",
            None,
            &Value::Null,
        );
        let changed = event_hash(
            Hashing::Keyed(&key),
            &GENESIS_HASH,
            id,
            t,
            None,
            None,
            "a",
            "r",
            None,
            "denied",
            "req",
            None,
            &Value::Null,
        );
        assert_ne!(base, changed);
        let other_prev = event_hash(
            Hashing::Keyed(&key),
            &[1; 32],
            id,
            t,
            None,
            None,
            "a",
            "r",
            None,
            "allowed",
            "req",
            None,
            &Value::Null,
        );
        assert_ne!(base, other_prev);
        let h = |hashing| {
            event_hash(
                hashing,
                &GENESIS_HASH,
                id,
                t,
                None,
                None,
                "a",
                "r",
                None,
                "allowed",
                "req",
                None,
                &Value::Null,
            )
        };
        assert_ne!(
            base,
            h(Hashing::Keyed(&[8; 32])),
            "another key, another hash"
        );
        assert_ne!(base, h(Hashing::Legacy), "keyed differs from plain SHA-256");
    }
}
