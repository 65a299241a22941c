//! Demo groups: one active (11 signed members, started about five months ago) and one forming
//! (three signed, two pending), each with its agreement.

use chrono::{Datelike, Duration, NaiveTime, Utc, Weekday};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::{DemoClients, DemoStaff};
use crate::domain::group::{GroupStatus, MeetingDay};
use crate::domain::membership::MembershipStatus;
use crate::schema::{contracts, groups, memberships};

pub struct DemoGroups {
    pub active_group: Uuid,
    /// Members of the active group, in admission order.
    pub active_members: Vec<Uuid>,
    pub forming_group: Uuid,
}

fn clauses() -> serde_json::Value {
    json!({
        "attendance": "I will attend every session and let the group know ahead of time if I cannot.",
        "confidentiality": "What members say in the group stays in the group. I will not share who is in the group.",
        "outside_socialization": "I will not form relationships with members outside the group; chance meetings are brought back to the group.",
        "substance_use": "I will come to group sober and talk about any use openly.",
        "exit_notice": "When I decide to leave, I will tell the group and stay for three more sessions to say goodbye.",
        "other": ""
    })
}

#[allow(clippy::too_many_arguments)]
fn group(
    conn: &mut PgConnection,
    name: &str,
    lead: Uuid,
    co: Vec<Uuid>,
    day: MeetingDay,
    time: (u32, u32),
    start: chrono::NaiveDate,
    status: GroupStatus,
    author: Uuid,
) -> anyhow::Result<(Uuid, Uuid)> {
    let id = Uuid::new_v4();
    diesel::insert_into(groups::table)
        .values((
            groups::id.eq(id),
            groups::name.eq(name),
            groups::lead_therapist_id.eq(lead),
            groups::co_therapist_ids.eq(co),
            groups::meeting_day.eq(day),
            groups::meeting_time
                .eq(NaiveTime::from_hms_opt(time.0, time.1, 0).expect("valid time")),
            groups::timezone.eq("America/New_York"),
            groups::start_date.eq(start),
            groups::status.eq(status),
        ))
        .execute(conn)?;
    let contract = Uuid::new_v4();
    diesel::insert_into(contracts::table)
        .values((
            contracts::id.eq(contract),
            contracts::group_id.eq(id),
            contracts::version.eq(1),
            contracts::clauses.eq(clauses()),
            contracts::created_by.eq(author),
            contracts::created_at.eq(Utc::now() - Duration::days(200)),
        ))
        .execute(conn)?;
    Ok((id, contract))
}

fn seat(
    conn: &mut PgConnection,
    staff: &DemoStaff,
    group_id: Uuid,
    contract: Option<Uuid>,
    (client, screening): (Uuid, Uuid),
    signed: Option<chrono::DateTime<Utc>>,
) -> anyhow::Result<Uuid> {
    let id = Uuid::new_v4();
    let tz: chrono_tz::Tz = "America/New_York".parse().expect("valid zone");
    diesel::insert_into(memberships::table)
        .values((
            memberships::id.eq(id),
            memberships::group_id.eq(group_id),
            memberships::client_id.eq(client),
            memberships::screening_id.eq(screening),
            memberships::status.eq(if signed.is_some() {
                MembershipStatus::Active
            } else {
                MembershipStatus::Pending
            }),
            memberships::contract_id.eq(contract.filter(|_| signed.is_some())),
            memberships::signed_at.eq(signed),
            memberships::signature_name.eq(signed.map(|_| "signed in person")),
            memberships::witness_id.eq(signed.map(|_| staff.intake)),
            memberships::joined_on.eq(signed.map(|s| s.with_timezone(&tz).date_naive())),
            memberships::created_by.eq(staff.supervisor),
            memberships::created_at.eq(signed.unwrap_or_else(Utc::now) - Duration::days(3)),
        ))
        .execute(conn)?;
    Ok(id)
}

pub fn load(
    conn: &mut PgConnection,
    staff: &DemoStaff,
    clients: &DemoClients,
) -> anyhow::Result<DemoGroups> {
    let today = Utc::now().date_naive();
    // The active group began on the Tuesday about 22 weeks ago.
    let mut start = today - Duration::weeks(22);
    while start.weekday() != Weekday::Tue {
        start += Duration::days(1);
    }
    let (active_group, active_contract) = group(
        conn,
        "Tuesday Evening Recovery Process Group",
        staff.therapists[0],
        vec![staff.therapists[1]],
        MeetingDay::Tuesday,
        (18, 0),
        start,
        GroupStatus::Active,
        staff.supervisor,
    )?;
    let signed_at = start.and_hms_opt(12, 0, 0).expect("valid").and_utc() - Duration::days(2);
    let mut active_members = Vec::new();
    for pair in clients.accepted.iter().take(11) {
        active_members.push(seat(
            conn,
            staff,
            active_group,
            Some(active_contract),
            *pair,
            Some(signed_at),
        )?);
    }
    // The agreement was amended three weeks ago (phones off in group); most members re-signed
    // it at the next session, the last two have yet to (v2).
    let amended = Uuid::new_v4();
    diesel::insert_into(contracts::table)
        .values((
            contracts::id.eq(amended),
            contracts::group_id.eq(active_group),
            contracts::version.eq(2),
            contracts::clauses.eq({
                let mut c = clauses();
                c["other"] = serde_json::json!("Phones are switched off during group.");
                c
            }),
            contracts::created_by.eq(staff.supervisor),
            contracts::created_at.eq(Utc::now() - Duration::days(21)),
        ))
        .execute(conn)?;
    for m in active_members.iter().take(9) {
        crate::memberships::signatures::insert(
            conn,
            *m,
            amended,
            Utc::now() - Duration::days(20),
            "signed in person",
            staff.intake,
        )?;
    }

    let mut forming_start = today + Duration::weeks(3);
    while forming_start.weekday() != Weekday::Thu {
        forming_start += Duration::days(1);
    }
    let (forming_group, forming_contract) = group(
        conn,
        "Thursday Morning Women's Process Group",
        staff.therapists[2],
        vec![],
        MeetingDay::Thursday,
        (10, 30),
        forming_start,
        GroupStatus::Forming,
        staff.supervisor,
    )?;
    for (i, pair) in clients.accepted.iter().skip(11).take(5).enumerate() {
        let signed = (i < 3).then(|| Utc::now() - Duration::days(5 - i as i64));
        seat(
            conn,
            staff,
            forming_group,
            Some(forming_contract),
            *pair,
            signed,
        )?;
    }
    Ok(DemoGroups {
        active_group,
        active_members,
        forming_group,
    })
}
