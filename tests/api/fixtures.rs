//! Builders that put rows straight into a test's database, for tests whose subject is not
//! how those rows are created (e.g. attendance needs seated members). Each returns the id.
//! Defaults follow SPEC §2; override with the builder methods.

#![allow(dead_code)]

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use groupwork::schema::*;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::TestApp;

/// A client with a unique name.
pub fn client(app: &TestApp, first: &str, last: &str) -> Uuid {
    let id = Uuid::new_v4();
    diesel::insert_into(clients::table)
        .values((
            clients::id.eq(id),
            clients::first_name.eq(first),
            clients::last_name.eq(last),
            clients::date_of_birth.eq(NaiveDate::from_ymd_opt(1985, 4, 12).unwrap()),
            clients::referral_source.eq("self"),
            clients::mandated.eq(false),
            clients::search_text.eq(groupwork::domain::text::search_key(&[last, first])),
        ))
        .execute(&mut app.conn())
        .unwrap();
    id
}

/// A completed, accepted screening of `client_id` by `interviewer_id`, `days_ago` days ago,
/// for `group_id` (or none).
pub fn accepted_screening(
    app: &TestApp,
    client_id: Uuid,
    interviewer_id: Uuid,
    group_id: Option<Uuid>,
    days_ago: i64,
) -> Uuid {
    let id = Uuid::new_v4();
    let at = Utc::now() - Duration::days(days_ago);
    diesel::insert_into(screenings::table)
        .values((
            screenings::id.eq(id),
            screenings::client_id.eq(client_id),
            screenings::interviewer_id.eq(interviewer_id),
            screenings::group_id.eq(group_id),
            screenings::scheduled_at.eq(at - Duration::hours(1)),
            screenings::status.eq("completed"),
            screenings::completed_at.eq(at),
            screenings::outcome.eq("accepted"),
            screenings::assessment.eq(json!({"motivation": 4, "contraindications": [], "concurrent_therapies": "", "substance_use_summary": "", "notes": ""})),
            screenings::created_by.eq(interviewer_id),
        ))
        .execute(&mut app.conn())
        .unwrap();
    id
}

pub struct GroupBuilder<'a> {
    app: &'a TestApp,
    lead: Uuid,
    co: Vec<Uuid>,
    status: &'static str,
    start_date: NaiveDate,
    meeting_day: &'static str,
    meeting_time: NaiveTime,
    timezone: &'static str,
    min_size: i32,
    max_size: i32,
    min_term_sessions: i32,
    exit_notice_sessions: i32,
    absence_alert_threshold: i32,
}

/// A group led by `lead`, `forming`, meeting Mondays 18:00 UTC from 2026-01-05.
pub fn group(app: &TestApp, lead: Uuid) -> GroupBuilder<'_> {
    GroupBuilder {
        app,
        lead,
        co: vec![],
        status: "forming",
        start_date: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
        meeting_day: "monday",
        meeting_time: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
        timezone: "UTC",
        min_size: 8,
        max_size: 15,
        min_term_sessions: 12,
        exit_notice_sessions: 3,
        absence_alert_threshold: 3,
    }
}

impl GroupBuilder<'_> {
    pub fn co(mut self, ids: Vec<Uuid>) -> Self {
        self.co = ids;
        self
    }
    pub fn status(mut self, s: &'static str) -> Self {
        self.status = s;
        self
    }
    pub fn start(mut self, d: NaiveDate) -> Self {
        self.start_date = d;
        self
    }
    pub fn schedule(mut self, day: &'static str, time: NaiveTime, tz: &'static str) -> Self {
        (self.meeting_day, self.meeting_time, self.timezone) = (day, time, tz);
        self
    }
    pub fn sizes(mut self, min: i32, max: i32) -> Self {
        (self.min_size, self.max_size) = (min, max);
        self
    }
    pub fn terms(mut self, min_term: i32, exit_notice: i32, alert: i32) -> Self {
        (
            self.min_term_sessions,
            self.exit_notice_sessions,
            self.absence_alert_threshold,
        ) = (min_term, exit_notice, alert);
        self
    }
    pub fn create(self) -> Uuid {
        let id = Uuid::new_v4();
        diesel::insert_into(groups::table)
            .values((
                groups::id.eq(id),
                groups::name.eq(format!("Group {}", &id.simple().to_string()[..6])),
                groups::lead_therapist_id.eq(self.lead),
                groups::co_therapist_ids.eq(self.co),
                groups::min_size.eq(self.min_size),
                groups::max_size.eq(self.max_size),
                groups::meeting_day.eq(self.meeting_day),
                groups::meeting_time.eq(self.meeting_time),
                groups::timezone.eq(self.timezone),
                groups::min_term_sessions.eq(self.min_term_sessions),
                groups::exit_notice_sessions.eq(self.exit_notice_sessions),
                groups::absence_alert_threshold.eq(self.absence_alert_threshold),
                groups::start_date.eq(self.start_date),
                groups::status.eq(self.status),
            ))
            .execute(&mut self.app.conn())
            .unwrap();
        id
    }
}

/// Version `version` of the group's agreement, created by `by`.
pub fn contract(app: &TestApp, group_id: Uuid, version: i32, by: Uuid) -> Uuid {
    let id = Uuid::new_v4();
    diesel::insert_into(contracts::table)
        .values((
            contracts::id.eq(id),
            contracts::group_id.eq(group_id),
            contracts::version.eq(version),
            contracts::clauses.eq(json!({
                "attendance": "Attend every session; tell the group ahead of any absence.",
                "confidentiality": "What is said here stays here.",
                "outside_socialization": "No relationships outside the group.",
                "substance_use": "Come to group sober.",
                "exit_notice": "Give three sessions' notice before leaving.",
                "other": ""
            })),
            contracts::created_by.eq(by),
        ))
        .execute(&mut app.conn())
        .unwrap();
    id
}

/// An active membership (contract signed at `signed_at`), with its own client and screening.
pub fn active_member(
    app: &TestApp,
    group_id: Uuid,
    contract_id: Uuid,
    staff_id: Uuid,
    signed_at: DateTime<Utc>,
) -> (Uuid, Uuid) {
    let client_id = client(
        app,
        "Member",
        &format!("M{}", &Uuid::new_v4().simple().to_string()[..6]),
    );
    (
        seat(app, group_id, contract_id, staff_id, signed_at, client_id),
        client_id,
    )
}

/// A session of the group.
pub fn session(
    app: &TestApp,
    group_id: Uuid,
    sequence: i32,
    scheduled_at: DateTime<Utc>,
    status: &str,
) -> Uuid {
    let id = Uuid::new_v4();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id),
            sessions::group_id.eq(group_id),
            sessions::sequence.eq(sequence),
            sessions::scheduled_at.eq(scheduled_at),
            sessions::duration_minutes.eq(90),
            sessions::status.eq(status),
        ))
        .execute(&mut app.conn())
        .unwrap();
    id
}

/// One attendance record.
pub fn attendance(app: &TestApp, session_id: Uuid, membership_id: Uuid, status: &str, by: Uuid) {
    diesel::insert_into(attendance::table)
        .values((
            attendance::session_id.eq(session_id),
            attendance::membership_id.eq(membership_id),
            attendance::status.eq(status),
            attendance::recorded_by.eq(by),
        ))
        .execute(&mut app.conn())
        .unwrap();
}

/// An active membership of an existing client (a client who sat in several groups), with
/// its own screening.
pub fn seat(
    app: &TestApp,
    group_id: Uuid,
    contract_id: Uuid,
    staff_id: Uuid,
    signed_at: DateTime<Utc>,
    client_id: Uuid,
) -> Uuid {
    let screening_id = accepted_screening(app, client_id, staff_id, Some(group_id), 30);
    let id = Uuid::new_v4();
    diesel::insert_into(memberships::table)
        .values((
            memberships::id.eq(id),
            memberships::group_id.eq(group_id),
            memberships::client_id.eq(client_id),
            memberships::screening_id.eq(screening_id),
            memberships::status.eq("active"),
            memberships::contract_id.eq(contract_id),
            memberships::signed_at.eq(signed_at),
            memberships::signature_name.eq("Member"),
            memberships::witness_id.eq(staff_id),
            memberships::joined_on.eq(signed_at.date_naive()),
            memberships::created_by.eq(staff_id),
        ))
        .execute(&mut app.conn())
        .unwrap();
    id
}

/// Marks a membership exited with `reason` at `at`, as the exit endpoints would leave it.
pub fn exit_member(app: &TestApp, membership_id: Uuid, reason: &str, at: DateTime<Utc>) {
    diesel::update(memberships::table.find(membership_id))
        .set((
            memberships::status.eq("exited"),
            memberships::exit_reason.eq(reason),
            memberships::exited_at.eq(at),
        ))
        .execute(&mut app.conn())
        .unwrap();
}

/// Sets a membership's status (e.g. `exiting`) and nothing else.
pub fn member_status(app: &TestApp, membership_id: Uuid, status: &str) {
    diesel::update(memberships::table.find(membership_id))
        .set(memberships::status.eq(status))
        .execute(&mut app.conn())
        .unwrap();
}

/// Sets a client's referral source and mandated flag.
pub fn referral(app: &TestApp, client_id: Uuid, source: &str, mandated: bool) {
    diesel::update(clients::table.find(client_id))
        .set((
            clients::referral_source.eq(source),
            clients::mandated.eq(mandated),
        ))
        .execute(&mut app.conn())
        .unwrap();
}
