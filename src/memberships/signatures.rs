//! Signatures of the group agreement (SPEC §2, v2): every version a member signed, oldest
//! first, and whether they hold the current one.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::MembershipRow;
use crate::schema::{contracts, membership_signatures};

/// One signature of one version of the group agreement.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Signature {
    pub contract_id: Uuid,
    pub version: i32,
    pub signed_at: DateTime<Utc>,
    pub signature_name: String,
    /// The staff user who recorded it.
    pub witness_id: Uuid,
}

type Stored = (Uuid, Uuid, i32, DateTime<Utc>, String, Uuid);

/// A row of [`load_with_current`]'s one query: a signature (all columns set) or a contract
/// (membership and signature columns null).
type Both = (
    Option<Uuid>,
    Uuid,
    Uuid,
    i32,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<Uuid>,
);

/// Every signature of the given memberships, oldest first. The admission signature kept on the
/// membership row is included even where no signature row holds it (rows written before
/// signatures had their own table, or by bulk loaders).
pub fn load(
    conn: &mut PgConnection,
    rows: &[MembershipRow],
) -> QueryResult<HashMap<Uuid, Vec<Signature>>> {
    Ok(load_with_current(conn, rows)?.0)
}

/// [`load`], and the current agreement version of each of the memberships' groups (what
/// [`current_versions`] answers), in one query: the signatures, and the contracts of those
/// groups together with the admission contracts (which answer both the admission signatures'
/// versions and the groups' newest version), under one `UNION ALL`.
#[allow(clippy::type_complexity)]
pub fn load_with_current(
    conn: &mut PgConnection,
    rows: &[MembershipRow],
) -> QueryResult<(HashMap<Uuid, Vec<Signature>>, HashMap<Uuid, i32>)> {
    use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let admission_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.contract_id).collect();
    let mut group_ids: Vec<Uuid> = rows.iter().map(|r| r.group_id).collect();
    group_ids.sort_unstable();
    group_ids.dedup();
    // One round trip: the signatures (with their contract) and, under them, the contracts of
    // those groups and the admission contracts, whose signature columns are null.
    let signed = membership_signatures::table
        .inner_join(contracts::table)
        .filter(membership_signatures::membership_id.eq_any(&ids))
        .select((
            membership_signatures::membership_id.nullable(),
            contracts::id,
            contracts::group_id,
            contracts::version,
            membership_signatures::signed_at.nullable(),
            membership_signatures::signature_name.nullable(),
            membership_signatures::witness_id.nullable(),
        ));
    let contracts_known = contracts::table
        .filter(
            contracts::group_id
                .eq_any(&group_ids)
                .or(contracts::id.eq_any(&admission_ids)),
        )
        .select((
            None::<Uuid>.into_sql::<Nullable<SqlUuid>>(),
            contracts::id,
            contracts::group_id,
            contracts::version,
            None::<DateTime<Utc>>.into_sql::<Nullable<Timestamptz>>(),
            None::<String>.into_sql::<Nullable<Text>>(),
            None::<Uuid>.into_sql::<Nullable<SqlUuid>>(),
        ));
    let both: Vec<Both> = signed.union_all(contracts_known).load(conn)?;
    let mut stored: Vec<Stored> = Vec::new();
    let mut known: Vec<(Uuid, Uuid, i32)> = Vec::new();
    for (m, contract_id, group_id, version, signed_at, name, witness) in both {
        match (m, signed_at, name, witness) {
            (Some(m), Some(at), Some(name), Some(w)) => {
                stored.push((m, contract_id, version, at, name, w))
            }
            _ => known.push((contract_id, group_id, version)),
        }
    }
    let versions: HashMap<Uuid, i32> = known.iter().map(|&(id, _, v)| (id, v)).collect();
    let mut current: HashMap<Uuid, i32> = HashMap::new();
    for &(_, g, v) in known.iter().filter(|(_, g, _)| group_ids.contains(g)) {
        let newest = current.entry(g).or_insert(v);
        *newest = (*newest).max(v);
    }
    let mut out: HashMap<Uuid, Vec<Signature>> = HashMap::new();
    for (m, contract_id, version, signed_at, signature_name, witness_id) in stored {
        out.entry(m).or_default().push(Signature {
            contract_id,
            version,
            signed_at,
            signature_name,
            witness_id,
        });
    }
    for r in rows {
        let list = out.entry(r.id).or_default();
        if let (Some(c), Some(at), Some(name), Some(w)) = (
            r.contract_id,
            r.signed_at,
            r.signature_name.clone(),
            r.witness_id,
        ) {
            if !list.iter().any(|s| s.contract_id == c) {
                list.push(Signature {
                    contract_id: c,
                    version: versions.get(&c).copied().unwrap_or(1),
                    signed_at: at,
                    signature_name: name,
                    witness_id: w,
                });
            }
        }
        list.sort_by_key(|s| (s.signed_at, s.version));
    }
    Ok((out, current))
}

/// The current (newest) agreement version of each group.
pub fn current_versions(
    conn: &mut PgConnection,
    group_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, i32>> {
    let rows: Vec<(Uuid, Option<i32>)> = contracts::table
        .filter(contracts::group_id.eq_any(group_ids))
        .group_by(contracts::group_id)
        .select((contracts::group_id, diesel::dsl::max(contracts::version)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(g, v)| v.map(|v| (g, v)))
        .collect())
}

/// Records a signature.
pub fn insert(
    conn: &mut PgConnection,
    membership_id: Uuid,
    contract_id: Uuid,
    signed_at: DateTime<Utc>,
    signature_name: &str,
    witness_id: Uuid,
) -> QueryResult<usize> {
    diesel::insert_into(membership_signatures::table)
        .values((
            membership_signatures::id.eq(Uuid::new_v4()),
            membership_signatures::membership_id.eq(membership_id),
            membership_signatures::contract_id.eq(contract_id),
            membership_signatures::signed_at.eq(signed_at),
            membership_signatures::signature_name.eq(signature_name),
            membership_signatures::witness_id.eq(witness_id),
        ))
        .execute(conn)
}
