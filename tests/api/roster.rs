//! The shared roster rules of `src/roster.rs`, on real rows.

use chrono::{Duration, TimeZone, Utc};
use groupwork::auth::Role;
use groupwork::roster;

use crate::fixtures;
use crate::helpers::TestApp;

#[actix_web::test]
async fn seated_progress_and_risk() {
    let app = TestApp::spawn().await;
    let t = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, t.id)
        .status("active")
        .terms(2, 3, 2)
        .create();
    let c = fixtures::contract(&app, g, 1, t.id);
    let jan5 = Utc.with_ymd_and_hms(2026, 1, 5, 18, 0, 0).unwrap();
    let (early, _) = fixtures::active_member(&app, g, c, t.id, jan5 - Duration::days(3));
    let (late, _) = fixtures::active_member(&app, g, c, t.id, jan5 + Duration::days(3));
    let s1 = fixtures::session(&app, g, 1, jan5, "held");
    let s2 = fixtures::session(&app, g, 2, jan5 + Duration::days(7), "held");
    let s3 = fixtures::session(&app, g, 3, jan5 + Duration::days(14), "scheduled");

    let mut conn = app.conn();
    assert_eq!(
        roster::seated_at_session(&mut conn, s1).unwrap(),
        vec![early]
    );
    let mut both = roster::seated_at_session(&mut conn, s2).unwrap();
    both.sort();
    let mut expected = vec![early, late];
    expected.sort();
    assert_eq!(both, expected);

    let p = roster::progress(&mut conn, &[early, late]).unwrap();
    let of = |id| p.iter().find(|x| x.membership_id == id).unwrap();
    assert_eq!(of(early).sessions_held_since_join, 2);
    assert!(of(early).minimum_term_met());
    assert_eq!(of(late).sessions_held_since_join, 1);
    assert!(!of(late).minimum_term_met());

    fixtures::attendance(&app, s1, early, "unexcused_absence", t.id);
    let risk =
        |conn: &mut diesel::PgConnection| roster::at_risk(conn, &[early]).unwrap()[0].at_risk;
    assert!(!risk(&mut conn), "one absence is below the threshold of 2");
    fixtures::attendance(&app, s2, early, "unexcused_absence", t.id);
    assert!(risk(&mut conn));
    fixtures::attendance(&app, s3, early, "present", t.id);
    assert!(!risk(&mut conn), "attending clears the risk");
}

/// Issue 18: participation is derived in SQL (the view `membership_stats`). Records entered out
/// of session order still count newest session first, as `domain::participation` defines it:
/// the streak is the unexcused absences after the newest attended session, excused ones
/// skipped; the last attended date is that session's.
#[actix_web::test]
async fn participation_follows_session_order_not_entry_order() {
    use groupwork::domain::attendance::AttendanceStatus as A;
    use groupwork::domain::participation::absence_streak;

    let app = TestApp::spawn().await;
    let t = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, t.id)
        .status("active")
        .terms(2, 3, 2)
        .create();
    let c = fixtures::contract(&app, g, 1, t.id);
    let jan5 = Utc.with_ymd_and_hms(2026, 1, 5, 18, 0, 0).unwrap();
    let (m, _) = fixtures::active_member(&app, g, c, t.id, jan5 - Duration::days(3));
    let (quiet, _) = fixtures::active_member(&app, g, c, t.id, jan5 - Duration::days(3));
    let sessions: Vec<_> = (0..5)
        .map(|i| fixtures::session(&app, g, i + 1, jan5 + Duration::days(7 * i as i64), "held"))
        .collect();
    // in session order: unexcused, present, unexcused, excused, unexcused
    let statuses = [
        "unexcused_absence",
        "present",
        "unexcused_absence",
        "excused_absence",
        "unexcused_absence",
    ];
    for i in [4, 0, 2, 1, 3] {
        fixtures::attendance(&app, sessions[i], m, statuses[i], t.id);
    }
    let newest_first = [
        A::UnexcusedAbsence,
        A::ExcusedAbsence,
        A::UnexcusedAbsence,
        A::Present,
    ];
    assert_eq!(absence_streak(newest_first), 2);

    let mut conn = app.conn();
    let p = roster::participation(&mut conn, &[m, quiet]).unwrap();
    assert_eq!(p[&m].absence_streak, 2);
    assert_eq!(p[&m].sessions_attended, 1);
    assert_eq!(
        p[&m].last_attended_on,
        Some((jan5 + Duration::days(7)).date_naive())
    );
    assert_eq!(p[&quiet], roster::Participation::default(), "no records");
    let risk = roster::at_risk(&mut conn, &[m]).unwrap();
    assert!(risk[0].at_risk, "a streak of 2 reaches the threshold of 2");
}

/// Issue 18: the view counts by the group's local calendar while it compares instants (the join
/// day is converted once to the instant it begins). A session just before local midnight of the
/// join day does not count, one just after does, also on a day whose midnight a DST change
/// skips; the last attended date is the local one, not the UTC one.
#[actix_web::test]
async fn held_since_join_and_last_attended_follow_the_local_day() {
    use chrono::NaiveDate;
    use diesel::prelude::*;
    use groupwork::schema::memberships;

    let app = TestApp::spawn().await;
    let t = app.staff(Role::Therapist).await;
    for (tz, joined, before, after, late_evening, local_day) in [
        // UTC-8 in January: 07:30Z is 23:30 the day before, 08:30Z is 00:30.
        (
            "America/Los_Angeles",
            NaiveDate::from_ymd_opt(2026, 1, 10).unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 10, 7, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 10, 8, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 11, 7, 0, 0).unwrap(),
            NaiveDate::from_ymd_opt(2026, 1, 10).unwrap(),
        ),
        // Chile skips 2026-09-06 00:00 (clocks go to 01:00, UTC-4 → UTC-3): the day begins at
        // 04:00Z; 03:30Z is 23:30 on the 5th.
        (
            "America/Santiago",
            NaiveDate::from_ymd_opt(2026, 9, 6).unwrap(),
            Utc.with_ymd_and_hms(2026, 9, 6, 3, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 9, 6, 4, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 9, 7, 2, 0, 0).unwrap(),
            NaiveDate::from_ymd_opt(2026, 9, 6).unwrap(),
        ),
    ] {
        let g = fixtures::group(&app, t.id)
            .status("active")
            .schedule(
                "monday",
                chrono::NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
                tz,
            )
            .terms(2, 3, 2)
            .create();
        let c = fixtures::contract(&app, g, 1, t.id);
        let (m, _) = fixtures::active_member(&app, g, c, t.id, before - Duration::days(30));
        let mut conn = app.conn();
        diesel::update(memberships::table.find(m))
            .set(memberships::joined_on.eq(joined))
            .execute(&mut conn)
            .unwrap();
        let s_before = fixtures::session(&app, g, 1, before, "held");
        let s_after = fixtures::session(&app, g, 2, after, "held");
        let s_evening = fixtures::session(&app, g, 3, late_evening, "held");
        fixtures::attendance(&app, s_before, m, "present", t.id);
        fixtures::attendance(&app, s_after, m, "unexcused_absence", t.id);
        fixtures::attendance(&app, s_evening, m, "late", t.id);

        let p = roster::progress(&mut conn, &[m]).unwrap();
        assert_eq!(
            p[0].sessions_held_since_join, 2,
            "{tz}: the day before does not count"
        );
        let part = roster::participation(&mut conn, &[m]).unwrap();
        assert_eq!(part[&m].sessions_attended, 2, "{tz}");
        assert_eq!(
            part[&m].absence_streak, 0,
            "{tz}: attended after the absence"
        );
        assert_eq!(
            part[&m].last_attended_on,
            Some(local_day),
            "{tz}: the local date"
        );
        assert_ne!(
            Some(late_evening.date_naive()),
            Some(local_day),
            "{tz}: a real check"
        );
    }
}
