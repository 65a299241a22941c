//! Issue 13 item 2: statuses and kinds are typed end to end. A value an enum does not know
//! fails to load (a deserialization error, never a default), and an agreement whose stored
//! clauses do not read is never shown or signed as an empty one.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, Nullable, Text};
use diesel::IntoSql;
use groupwork::auth::Role;
use groupwork::db::enums::UnknownValue;
use groupwork::domain::attendance::AttendanceStatus;
use groupwork::domain::client::{Gender, ReferralSource};
use groupwork::domain::consent::{InformationKind, RecipientKind};
use groupwork::domain::emergency_access::ReviewOutcome;
use groupwork::domain::group::{GroupStatus, MeetingDay, TimeZone};
use groupwork::domain::membership::{ExitReason, MembershipStatus};
use groupwork::domain::note::NoteStatus;
use groupwork::domain::screening::{Outcome, ScreeningStatus};
use groupwork::schema::{contracts, memberships};
use groupwork::sessions::model::SessionStatus;
use groupwork::users::model::Approval;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::TestApp;

/// Loads `SELECT <literal>::text` into `T` through diesel.
fn load<T>(conn: &mut PgConnection, literal: &str) -> QueryResult<T>
where
    T: diesel::deserialize::FromSqlRow<Text, diesel::pg::Pg> + 'static,
{
    diesel::select(sql::<Text>(&format!("'{literal}'::text"))).get_result::<T>(conn)
}

/// The error is diesel's deserialization error carrying our `UnknownValue`.
#[track_caller]
fn assert_unknown<T: std::fmt::Debug>(r: QueryResult<T>, enum_name: &str, value: &str) {
    match r {
        Err(DieselError::DeserializationError(e)) => {
            // diesel wraps it in the field's error: look down the chain.
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e.as_ref());
            let unknown = loop {
                match cause {
                    Some(c) => match c.downcast_ref::<UnknownValue>() {
                        Some(u) => break u,
                        None => cause = c.source(),
                    },
                    None => panic!("not an UnknownValue: {e}"),
                }
            };
            assert!(
                unknown.enum_name.ends_with(&format!("::{enum_name}")),
                "{} is not {enum_name}",
                unknown.enum_name
            );
            assert_eq!(unknown.value, value);
        }
        other => panic!("{enum_name}: expected a deserialization error, got {other:?}"),
    }
}

macro_rules! check_enum {
    ($conn:expr, $ty:ident, $known:expr, $text:literal) => {{
        // A known value loads, and writes back as the same text.
        assert_eq!(load::<$ty>($conn, $text).unwrap(), $known);
        let written: String = diesel::select($known.into_sql::<Text>())
            .get_result($conn)
            .unwrap();
        assert_eq!(written, $text);
        // Anything else (a near miss, another case, empty) is an error, never a default.
        for bogus in ["bogus", "", concat!($text, "x")] {
            assert_unknown(load::<$ty>($conn, bogus), stringify!($ty), bogus);
        }
        assert_unknown(
            load::<$ty>($conn, &$text.to_uppercase()),
            stringify!($ty),
            &$text.to_uppercase(),
        );
    }};
}

#[actix_web::test]
async fn unknown_values_fail_to_load() {
    let app = TestApp::spawn().await;
    let conn = &mut app.conn();
    check_enum!(conn, MembershipStatus, MembershipStatus::Exiting, "exiting");
    check_enum!(
        conn,
        ExitReason,
        ExitReason::HigherLevelOfCare,
        "higher_level_of_care"
    );
    check_enum!(conn, GroupStatus, GroupStatus::Forming, "forming");
    check_enum!(conn, MeetingDay, MeetingDay::Wednesday, "wednesday");
    check_enum!(conn, SessionStatus, SessionStatus::Held, "held");
    check_enum!(conn, ScreeningStatus, ScreeningStatus::NoShow, "no_show");
    check_enum!(
        conn,
        Outcome,
        Outcome::ReferredElsewhere,
        "referred_elsewhere"
    );
    check_enum!(conn, NoteStatus, NoteStatus::Cosigned, "cosigned");
    check_enum!(
        conn,
        AttendanceStatus,
        AttendanceStatus::LeftEarly,
        "left_early"
    );
    check_enum!(
        conn,
        RecipientKind,
        RecipientKind::TreatmentProgram,
        "treatment_program"
    );
    check_enum!(
        conn,
        InformationKind,
        InformationKind::MembershipStatus,
        "membership_status"
    );
    check_enum!(conn, ReferralSource, ReferralSource::SelfReferred, "self");
    check_enum!(conn, Gender, Gender::Nonbinary, "nonbinary");
    check_enum!(
        conn,
        ReviewOutcome,
        ReviewOutcome::Inappropriate,
        "inappropriate"
    );
    check_enum!(conn, Role, Role::Supervisor, "supervisor");
    check_enum!(conn, Approval, Approval::Pending, "pending");

    // A group's time zone: an IANA name chrono-tz knows, else an error (never UTC).
    assert_eq!(
        load::<TimeZone>(conn, "Europe/Berlin").unwrap(),
        TimeZone(chrono_tz::Europe::Berlin)
    );
    for bogus in ["Mars/Olympus", "", "UTC+1"] {
        assert_unknown(load::<TimeZone>(conn, bogus), "TimeZone", bogus);
    }

    // Nullable columns: NULL is `None`, an unknown value still an error.
    let none: Option<ExitReason> = diesel::select(sql::<Nullable<Text>>("NULL::text"))
        .get_result(conn)
        .unwrap();
    assert_eq!(none, None);
    let r = diesel::select(sql::<Nullable<Text>>("'moved_away'::text"))
        .get_result::<Option<ExitReason>>(conn);
    assert_unknown(r, "ExitReason", "moved_away");

    // Arrays (consents.information): one unknown element fails the whole value.
    let kinds: Vec<InformationKind> =
        diesel::select(sql::<Array<Text>>("ARRAY['attendance', 'record']::text[]"))
            .get_result(conn)
            .unwrap();
    assert_eq!(
        kinds,
        [InformationKind::Attendance, InformationKind::Record]
    );
    let r = diesel::select(sql::<Array<Text>>("ARRAY['attendance', 'notes']::text[]"))
        .get_result::<Vec<InformationKind>>(conn);
    assert_unknown(r, "InformationKind", "notes");
}

/// A row whose status is unknown fails the whole request with a 500 (its cause logged), not a
/// default: with the CHECK constraint dropped, a corrupt membership status is written and the
/// membership is read.
#[actix_web::test]
async fn an_unknown_stored_status_is_a_500_not_a_default() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let lead = app.staff(Role::Therapist).await;
    let group = fixtures::group(&app, lead.id).create();
    let contract = fixtures::contract(&app, group, 1, sup.id);
    let (m, _) = fixtures::active_member(&app, group, contract, sup.id, chrono::Utc::now());
    app.get(Some(&sup), &format!("/memberships/{m}"))
        .await
        .expect(200);
    let mut conn = app.conn();
    diesel::sql_query("ALTER TABLE memberships DROP CONSTRAINT memberships_status_check")
        .execute(&mut conn)
        .unwrap();
    diesel::update(memberships::table.find(m))
        .set(memberships::status.eq("suspended"))
        .execute(&mut conn)
        .unwrap();
    app.get(Some(&sup), &format!("/memberships/{m}"))
        .await
        .expect_problem(500, "internal_error");
}

/// Issue 13: a contract whose clauses fail to parse used to become an empty agreement that
/// could be signed. Now neither the list nor a signature reads it: 500, nothing written.
#[actix_web::test]
async fn a_corrupt_agreement_cannot_be_signed() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let lead = app.staff(Role::Therapist).await;
    let intake = app.staff(Role::Intake).await;
    let group = fixtures::group(&app, lead.id).create();
    let contract = fixtures::contract(&app, group, 1, sup.id);
    app.get(Some(&sup), &format!("/groups/{group}/contracts"))
        .await
        .expect(200);

    for corrupt in [
        json!("not an agreement"),
        json!({"confidentiality": 42}),
        json!({"confidentiality": "What is said here stays here.", "bogus": "x"}),
        // Parses, but is the empty agreement the old default made of anything unreadable.
        json!({}),
        json!({"confidentiality": "   "}),
    ] {
        let client = fixtures::client(
            &app,
            "Cand",
            &format!("C{}", &Uuid::new_v4().simple().to_string()[..6]),
        );
        let screening = fixtures::accepted_screening(&app, client, lead.id, Some(group), 5);
        let m = app
            .post(
                Some(&lead),
                &format!("/groups/{group}/members"),
                json!({"client_id": client, "screening_id": screening}),
            )
            .await
            .expect(201)
            .body["id"]
            .as_str()
            .unwrap()
            .to_string();
        diesel::update(contracts::table.find(contract))
            .set(contracts::clauses.eq(&corrupt))
            .execute(&mut app.conn())
            .unwrap();
        app.get(Some(&sup), &format!("/groups/{group}/contracts"))
            .await
            .expect_problem(500, "internal_error");
        app.post(
            Some(&intake),
            &format!("/memberships/{m}/sign"),
            json!({"contract_id": contract, "signature_name": "Cand C"}),
        )
        .await
        .expect_problem(500, "internal_error");
        let m: Uuid = m.parse().unwrap();
        let status: MembershipStatus = memberships::table
            .find(m)
            .select(memberships::status)
            .first(&mut app.conn())
            .unwrap();
        assert_eq!(
            status,
            MembershipStatus::Pending,
            "{corrupt}: nothing signed"
        );
        assert!(app.audit_actions("membership.sign").is_empty());
    }
}
