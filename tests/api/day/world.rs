//! A small practice with sessions in every documentation state, built once per test.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use groupwork::auth::Role;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

/// Text put into every note and assessment: no response of the staff's-day endpoints may
/// contain it.
pub const MARKER: &str = "MARKER-7f3a-never-in-a-list";

pub struct World {
    pub app: TestApp,
    pub ther: TestUser,
    pub other_ther: TestUser,
    pub sup: TestUser,
    pub admin: TestUser,
    pub intake: TestUser,
    pub group: Uuid,
    pub other_group: Uuid,
    pub m1: Uuid,
    pub m2: Uuid,
    pub c1: Uuid,
    /// Held 10 days ago; attendance, group note and m1's note signed: complete.
    pub complete: Uuid,
    /// Held 5 days ago; group note a draft, no member notes: overdue.
    pub overdue: Uuid,
    /// Held 1 hour after ending, yesterday; nothing written: incomplete, not overdue.
    pub recent: Uuid,
    /// Cancelled 2 days ago.
    pub cancelled: Uuid,
    /// In two days.
    pub upcoming: Uuid,
    /// The other therapist's group: held 5 days ago, undocumented.
    pub foreign: Uuid,
}

pub fn date_of(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

pub fn group_note_body() -> serde_json::Value {
    json!({"themes": MARKER, "group_process": MARKER, "interventions": MARKER, "plan": MARKER})
}

pub fn member_note_body() -> serde_json::Value {
    json!({"participation": "active", "progress": MARKER, "risk_flags": [], "content": MARKER})
}

impl World {
    pub async fn new() -> World {
        let mut app = TestApp::spawn().await;
        // Every response of these tests is checked against the OpenAPI document.
        app.check_contract = true;
        let ther = app.staff(Role::Therapist).await;
        let other_ther = app.staff(Role::Therapist).await;
        let sup = app.staff(Role::Supervisor).await;
        let admin = app.staff(Role::Admin).await;
        let intake = app.staff(Role::Intake).await;
        let now = Utc::now();
        let group = fixtures::group(&app, ther.id).status("active").create();
        let other_group = fixtures::group(&app, other_ther.id)
            .status("active")
            .create();
        let contract = fixtures::contract(&app, group, 1, sup.id);
        let other_contract = fixtures::contract(&app, other_group, 1, sup.id);
        let joined = now - Duration::days(40);
        let (m1, c1) = fixtures::active_member(&app, group, contract, sup.id, joined);
        let (m2, _) = fixtures::active_member(&app, group, contract, sup.id, joined);
        let (om, _) = fixtures::active_member(&app, other_group, other_contract, sup.id, joined);
        let complete = fixtures::session(&app, group, 1, now - Duration::days(10), "held");
        let overdue = fixtures::session(&app, group, 2, now - Duration::days(5), "held");
        let cancelled = fixtures::session(&app, group, 3, now - Duration::days(2), "cancelled");
        let recent = fixtures::session(&app, group, 4, now - Duration::hours(26), "held");
        let upcoming = fixtures::session(&app, group, 5, now + Duration::days(2), "scheduled");
        let foreign = fixtures::session(&app, other_group, 1, now - Duration::days(5), "held");
        for (s, a, b) in [
            (complete, "present", "unexcused_absence"),
            (overdue, "present", "late"),
            (recent, "present", "present"),
        ] {
            fixtures::attendance(&app, s, m1, a, ther.id);
            fixtures::attendance(&app, s, m2, b, ther.id);
        }
        fixtures::attendance(&app, foreign, om, "present", other_ther.id);
        let w = World {
            app,
            ther,
            other_ther,
            sup,
            admin,
            intake,
            group,
            other_group,
            m1,
            m2,
            c1,
            complete,
            overdue,
            recent,
            cancelled,
            upcoming,
            foreign,
        };
        // The complete session: group note and m1's note signed (m2 was absent).
        w.write_group_note(complete, true).await;
        w.write_member_note(complete, m1, true).await;
        // The overdue one: a draft group note and a draft member note.
        w.write_group_note(overdue, false).await;
        w.write_member_note(overdue, m2, false).await;
        w
    }

    pub async fn write_group_note(&self, session: Uuid, sign: bool) {
        let path = format!("/sessions/{session}/group-note");
        self.app
            .put(Some(&self.ther), &path, group_note_body())
            .await
            .expect(201);
        if sign {
            self.app
                .post(Some(&self.ther), &format!("{path}/sign"), json!({}))
                .await
                .expect(200);
        }
    }

    pub async fn write_member_note(&self, session: Uuid, membership: Uuid, sign: bool) {
        let path = format!("/sessions/{session}/member-notes/{membership}");
        self.app
            .put(Some(&self.ther), &path, member_note_body())
            .await
            .expect(201);
        if sign {
            self.app
                .post(Some(&self.ther), &format!("{path}/sign"), json!({}))
                .await
                .expect(200);
        }
    }
}

/// The ids of a list's items, in order.
pub fn ids(body: &serde_json::Value) -> Vec<Uuid> {
    body["items"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|i| i["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Asserts a 422 naming `field`.
#[track_caller]
pub fn assert_field(r: &crate::helpers::Resp, field: &str) {
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["code"], "validation_failed", "{}", r.text);
    assert!(
        r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == field),
        "no error for {field}: {}",
        r.text
    );
}
