//! The audit trail (SPEC §2): append-only (a trigger refuses UPDATE/DELETE, and the serving
//! role may not disable it), each event chained to the one before by an HMAC-SHA256 under
//! `GROUPWORK_AUDIT_KEY`, written in the same transaction as the change it records.
//! `details` never carries note or assessment content.
//!
//! Appending and chaining are two steps (issue 18). A request only inserts its events, with
//! the next position (`seq`) and no hashes: no lock, so audited requests no longer wait for
//! one another, across instances too. A sealer (`seal`, every [`SEAL_EVERY`] inside `serve`,
//! and first thing in `verify` and `checkpoint`) then links the events in `seq` order: each
//! gets `prev_hash` (its predecessor's hash) and its `hash`, once, the only change the trigger
//! allows. It seals only up to a position every earlier one of which is final (see `seal`),
//! so an event committed late is never skipped.
//!
//! What the chain proves: without the audit key, nobody — not even the database's owner — can
//! change, insert or remove a sealed event without `verify` pointing at it, since the later
//! hashes cannot be recomputed. An event not yet sealed (the last fraction of a second) is
//! protected only by the trigger and the serving role's grants, as every event was before
//! chaining; an unsealed event among sealed ones breaks the chain. Removing the newest events
//! leaves a shorter chain that is intact; a checkpoint kept outside the database
//! (`checkpoint`) catches that.

pub mod buffer;
pub mod bulk;
pub mod checkpoint;
pub mod routes;

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

/// One sealer at a time (across instances): each links events to its true predecessor.
const SEAL_LOCK_KEY: i64 = 0x6772_6f75_7073_6561; // "groupsea"
/// How often `serve` seals the chain's new events.
pub const SEAL_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// Events linked per sealing statement (a bounded transaction when much is pending).
const SEAL_BATCH: i64 = 2_000;
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
    /// Null until the event is sealed into the chain.
    pub prev_hash: Option<Vec<u8>>,
    pub hash: Option<Vec<u8>>,
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
    /// [`buffer::transaction`] (every `Db::tx`), else at once.
    pub fn record(
        &self,
        conn: &mut PgConnection,
        action: &str,
        resource_type: &str,
        resource_id: Option<Uuid>,
        outcome: Outcome,
        details: Value,
    ) -> AppResult<()> {
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
            Some(p) => append(conn, std::slice::from_ref(&p)),
        }
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

/// Inserts `events` in one statement, in order (their positions ascend in that order), without
/// hashes: the sealer links them later. No lock: concurrent requests append side by side.
fn append(conn: &mut PgConnection, events: &[buffer::Pending]) -> AppResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    // PostgreSQL keeps microseconds; the sealer hashes what it reads back.
    let occurred_at = Utc::now().trunc_subsecs(6);
    let rows: Vec<NewAuditRow<'_>> = events
        .iter()
        .map(|e| NewAuditRow {
            id: Uuid::new_v4(),
            occurred_at,
            actor_id: e.ctx.actor_id,
            actor_role: e.ctx.actor_role.map(Role::as_str),
            action: &e.action,
            resource_type: &e.resource_type,
            resource_id: e.resource_id,
            outcome: e.outcome.as_str(),
            request_id: &e.ctx.request_id,
            ip: e.ctx.ip.as_deref(),
            details: &e.details,
        })
        .collect();
    diesel::insert_into(audit_events::table)
        .values(&rows)
        .execute(conn)?;
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Horizon {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    last_seq: Option<i64>,
}

#[derive(diesel::QueryableByName)]
struct Snapshot {
    #[diesel(sql_type = diesel::sql_types::Text)]
    snapshot: String,
}

#[derive(diesel::QueryableByName)]
struct Running {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    running: i64,
}

/// The highest position up to which every event is final — committed, or rolled back for
/// good — waiting at most `wait` for the transactions that could still add one below it.
/// `None`: no event yet, or the wait ran out (the next round tries again).
///
/// Why this holds: a position is taken only once its transaction has an id
/// (`audit_next_seq`). So every position up to the sequence's value read first belongs to a
/// transaction that, when the snapshot is taken just after (in a statement of its own), is
/// either over or listed in the snapshot as running; once every listed transaction is over,
/// no event at or below that position can appear any more.
fn final_position(conn: &mut PgConnection, wait: std::time::Duration) -> AppResult<Option<i64>> {
    let Some(last_seq) = last_position(conn)? else {
        return Ok(None);
    };
    final_up_to(conn, last_seq, wait)
}

/// The highest position handed out so far (`None`: none yet).
fn last_position(conn: &mut PgConnection) -> AppResult<Option<i64>> {
    let Horizon { last_seq } =
        diesel::sql_query("SELECT pg_sequence_last_value('audit_events_seq_seq') AS last_seq")
            .get_result(conn)?;
    Ok(last_seq)
}

/// [`final_position`] once the sequence has been read.
fn final_up_to(
    conn: &mut PgConnection,
    last_seq: i64,
    wait: std::time::Duration,
) -> AppResult<Option<i64>> {
    let Snapshot { snapshot } =
        diesel::sql_query("SELECT pg_current_snapshot()::text AS snapshot").get_result(conn)?;
    let deadline = std::time::Instant::now() + wait;
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        // Our own transaction (sealing inside a request's) does not wait for itself.
        let Running { running } = diesel::sql_query(
            "SELECT count(*) AS running FROM pg_snapshot_xip($1::pg_snapshot) AS x \
             WHERE pg_xact_status(x) = 'in progress' \
               AND x IS DISTINCT FROM pg_current_xact_id_if_assigned()",
        )
        .bind::<diesel::sql_types::Text, _>(&snapshot)
        .get_result(conn)?;
        if running == 0 {
            return Ok(Some(last_seq));
        }
        if std::time::Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(50));
    }
}

/// Links the events appended so far into the chain, in `seq` order: each gets its
/// predecessor's hash and its own HMAC. Waits at most `wait` for transactions still running
/// that may hold an earlier position (see `final_position`); events after such a position
/// stay for a later round. Safe with several instances (one sealer at a time, under an
/// advisory lock that no request takes). Returns how many events it sealed.
pub fn seal(
    conn: &mut PgConnection,
    key: &[u8; 32],
    wait: std::time::Duration,
) -> AppResult<usize> {
    let Some(upto) = final_position(conn, wait)? else {
        return Ok(0);
    };
    seal_up_to(conn, key, upto)
}

/// What the background sealer knows between rounds: every position up to `through` is sealed
/// (or was rolled back), so while the sequence has not moved a round has nothing to do.
#[derive(Debug, Default, Clone, Copy)]
pub struct SealedThrough {
    through: Option<i64>,
}

/// One round of the background sealer: [`seal`], except that when no position was handed
/// out since the last complete round it stops after reading the sequence (one statement,
/// where a round is eight: an idle service no longer seals nothing four times a second).
pub fn seal_round(
    conn: &mut PgConnection,
    key: &[u8; 32],
    wait: std::time::Duration,
    known: &mut SealedThrough,
) -> AppResult<usize> {
    let Some(last_seq) = last_position(conn)? else {
        return Ok(0);
    };
    if known.through == Some(last_seq) {
        return Ok(0);
    }
    let Some(upto) = final_up_to(conn, last_seq, wait)? else {
        return Ok(0);
    };
    let sealed = seal_up_to(conn, key, upto)?;
    known.through = Some(upto);
    Ok(sealed)
}

/// Links the unsealed events up to position `upto`, all final (see [`seal`]).
fn seal_up_to(conn: &mut PgConnection, key: &[u8; 32], upto: i64) -> AppResult<usize> {
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(SEAL_LOCK_KEY)
            .execute(conn)?;
        let head: Option<(i64, Option<Vec<u8>>)> = audit_events::table
            .filter(audit_events::hash.is_not_null())
            .order(audit_events::seq.desc())
            .select((audit_events::seq, audit_events::hash))
            .first(conn)
            .optional()?;
        let (mut after, mut prev) = match head {
            Some((seq, Some(hash))) => (seq, hash),
            _ => (0, GENESIS_HASH.to_vec()),
        };
        let mut sealed = 0;
        loop {
            let rows: Vec<AuditRow> = audit_events::table
                .filter(audit_events::hash.is_null())
                .filter(audit_events::seq.gt(after))
                .filter(audit_events::seq.le(upto))
                .order(audit_events::seq.asc())
                .limit(SEAL_BATCH)
                .select(AuditRow::as_select())
                .load(conn)?;
            if rows.is_empty() {
                return Ok(sealed);
            }
            let mut seqs = Vec::with_capacity(rows.len());
            let mut prevs = Vec::with_capacity(rows.len());
            let mut hashes = Vec::with_capacity(rows.len());
            for row in &rows {
                let hash = row.expected_hash(Hashing::Keyed(key), &prev);
                seqs.push(row.seq);
                prevs.push(std::mem::replace(&mut prev, hash.clone()));
                hashes.push(hash);
                after = row.seq;
            }
            let n = diesel::sql_query(
                "UPDATE audit_events e SET prev_hash = v.prev_hash, hash = v.hash \
                 FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS v(seq, prev_hash, hash) \
                 WHERE e.seq = v.seq AND e.hash IS NULL",
            )
            .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(&seqs)
            .bind::<diesel::sql_types::Array<diesel::sql_types::Bytea>, _>(&prevs)
            .bind::<diesel::sql_types::Array<diesel::sql_types::Bytea>, _>(&hashes)
            .execute(conn)?;
            if n != rows.len() {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "sealed {n} of {} audit events: the chain changed under the sealer's lock",
                    rows.len()
                )));
            }
            sealed += n;
        }
    })
}

/// How long `verify` and `checkpoint` wait for transactions still running before they walk
/// the chain (the events of those stay unsealed and are counted as such).
pub const SEAL_WAIT_ON_VERIFY: std::time::Duration = std::time::Duration::from_secs(15);

/// Seals every `every` inside `serve` (each instance; one at a time seals, the others find
/// nothing left or wait briefly for its lock).
pub fn spawn_sealer(
    state: actix_web::web::Data<crate::state::AppState>,
    every: std::time::Duration,
) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut known = SealedThrough::default();
        loop {
            tick.tick().await;
            let key = state.settings.audit_key;
            let done = state
                .db
                .run(move |conn| {
                    let wait = std::time::Duration::from_secs(1);
                    seal_round(conn, &key, wait, &mut known).map(|n| (n, known))
                })
                .await;
            match done {
                Ok((n, after)) => {
                    known = after;
                    if n > 0 {
                        tracing::debug!(sealed = n, "audit events sealed");
                    }
                }
                Err(e) => tracing::error!(error = %e, "sealing the audit chain failed"),
            }
        }
    });
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
    /// Events after the sealed chain that the sealer has not linked yet (issue 18): not
    /// checked, and protected only by the database's grants and trigger until sealed.
    pub unsealed_events: i64,
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
///
/// Events not sealed yet are counted, not checked; they may only follow the sealed chain (the
/// sealer links in `seq` order), so one found before a sealed event is where it breaks. Seal
/// first (`seal`) to check everything appended so far.
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
    let mut unsealed = 0i64;
    let mut keyed_seen = false;
    let mut first_unkeyed: Option<Uuid> = None;
    let mut first_unsealed: Option<Uuid> = None;
    let mut head_seen = false;
    let broken = |checked, id, unkeyed, unsealed| Verification {
        intact: false,
        events_checked: checked,
        first_broken_id: Some(id),
        checkpoint_ok: head.map(|_| false),
        unkeyed_events: unkeyed,
        unsealed_events: unsealed,
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
                return Ok(broken(checked, first, unkeyed, unsealed));
            }
            let checkpoint_ok = head.map(|_| head_seen);
            return Ok(Verification {
                // fewer events than the checkpoint counted: the newest were removed
                intact: checkpoint_ok != Some(false),
                events_checked: checked,
                first_broken_id: None,
                checkpoint_ok,
                unkeyed_events: unkeyed,
                unsealed_events: unsealed,
            });
        }
        for row in &rows {
            last_seq = row.seq;
            let (Some(prev_hash), Some(hash)) = (&row.prev_hash, &row.hash) else {
                unsealed += 1;
                first_unsealed.get_or_insert(row.id);
                continue;
            };
            if let Some(skipped) = first_unsealed {
                // A sealed event after an unsealed one: the chain went past an event (one
                // inserted below the sealed head, or whose hashes were removed).
                return Ok(broken(checked, skipped, unkeyed, unsealed));
            }
            checked += 1;
            if *prev_hash != prev {
                return Ok(broken(checked, row.id, unkeyed, unsealed));
            }
            if row.expected_hash(Hashing::Keyed(key), &prev) == *hash {
                keyed_seen = true;
            } else if !keyed_seen && row.expected_hash(Hashing::Legacy, &prev) == *hash {
                unkeyed += 1;
                first_unkeyed.get_or_insert(row.id);
            } else {
                return Ok(broken(checked, row.id, unkeyed, unsealed));
            }
            if let Some(h) = head {
                if checked == h.events {
                    if row.id != h.last_id || *hash != h.hash {
                        return Ok(broken(checked, row.id, unkeyed, unsealed));
                    }
                    head_seen = true;
                }
            }
            prev = hash.clone();
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
