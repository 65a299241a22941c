//! `GET /me/dashboard` (SPEC §7): each count equals the length of the list it summarises, for
//! the same caller; fields a role may not see are absent.

use chrono::{Duration, Utc};
use serde_json::Value;

use super::world::{date_of, World, MARKER};
use crate::fixtures;
use crate::helpers::TestUser;

/// Adds what the plain world lacks: a member at risk, one exiting, one admitted and not yet
/// signed, a waiting candidate of the therapist's group, and a session today.
fn enrich(w: &World) {
    let now = Utc::now();
    let contract = {
        use diesel::prelude::*;
        use groupwork::schema::contracts;
        contracts::table
            .filter(contracts::group_id.eq(w.group))
            .select(contracts::id)
            .first::<uuid::Uuid>(&mut w.app.conn())
            .unwrap()
    };
    let joined = now - Duration::days(40);
    let (m3, _) = fixtures::active_member(&w.app, w.group, contract, w.sup.id, joined);
    for s in [w.complete, w.overdue, w.recent] {
        fixtures::attendance(&w.app, s, m3, "unexcused_absence", w.ther.id);
    }
    let (exiting, _) = fixtures::active_member(&w.app, w.group, contract, w.sup.id, joined);
    fixtures::member_status(&w.app, exiting, "exiting");
    let (pending, _) = fixtures::active_member(&w.app, w.group, contract, w.sup.id, joined);
    fixtures::member_status(&w.app, pending, "pending");
    let waiting = fixtures::client(&w.app, "Wanda", "Waiting");
    fixtures::accepted_screening(&w.app, waiting, w.sup.id, Some(w.group), 3);
    let elsewhere = fixtures::client(&w.app, "Elsa", "Elsewhere");
    fixtures::accepted_screening(&w.app, elsewhere, w.sup.id, Some(w.other_group), 3);
    fixtures::session(&w.app, w.group, 6, now, "scheduled");
    fixtures::session(&w.app, w.other_group, 2, now, "scheduled");
}

/// Every item of a list (following cursors).
async fn all(w: &World, who: &TestUser, path: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut next = format!("{path}{sep}limit=200");
    loop {
        let r = w.app.get(Some(who), &next).await.expect(200);
        items.extend(r.body["items"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => next = format!("{path}{sep}limit=200&cursor={c}"),
            None => return items,
        }
    }
}

async fn count(w: &World, who: &TestUser, path: &str) -> i64 {
    all(w, who, path).await.len() as i64
}

/// Members of every group the caller sees, matching `filter`.
async fn members(w: &World, who: &TestUser, filter: &str) -> i64 {
    let mut n = 0;
    for g in all(w, who, "/groups").await {
        let id = g["id"].as_str().unwrap();
        n += count(w, who, &format!("/groups/{id}/members?{filter}")).await;
    }
    n
}

#[actix_web::test]
async fn counts_equal_the_lists() {
    let w = World::new().await;
    enrich(&w);
    let today = date_of(Utc::now());
    for who in [&w.ther, &w.other_ther, &w.sup, &w.intake, &w.admin] {
        let d = w.app.get(Some(who), "/me/dashboard").await.expect(200);
        assert!(!d.text.contains(MARKER));
        let role = who.role.as_str();
        let get = |k: &str| d.body.get(k).and_then(Value::as_i64);
        assert_eq!(
            get("sessions_today"),
            Some(count(&w, who, &format!("/sessions?from={today}&to={today}")).await),
            "{role} sessions_today"
        );
        let clinical = matches!(role, "therapist" | "supervisor");
        if clinical {
            assert_eq!(
                get("documentation_incomplete"),
                Some(count(&w, who, "/sessions?documentation=incomplete").await),
                "{role}"
            );
            assert_eq!(
                get("documentation_overdue"),
                Some(count(&w, who, "/sessions?documentation=overdue").await),
                "{role}"
            );
        } else {
            assert!(d.body.get("documentation_incomplete").is_none(), "{role}");
            assert!(d.body.get("documentation_overdue").is_none(), "{role}");
        }
        if role == "supervisor" {
            assert_eq!(
                get("awaiting_cosign"),
                Some(count(&w, who, "/notes?awaiting_cosign=true").await)
            );
            assert_eq!(
                get("approvals_pending"),
                Some(count(&w, who, "/staff/approvals").await)
            );
        } else {
            assert!(d.body.get("awaiting_cosign").is_none(), "{role}");
            assert!(d.body.get("approvals_pending").is_none(), "{role}");
        }
        assert_eq!(
            get("members_at_risk"),
            Some(members(&w, who, "at_risk=true").await),
            "{role}"
        );
        assert_eq!(
            get("members_exiting"),
            Some(members(&w, who, "status=exiting").await),
            "{role}"
        );
        if role == "admin" {
            assert!(d.body.get("pending_signatures").is_none());
            assert!(d.body.get("contracts_to_resign").is_none());
            assert!(d.body.get("waitlist").is_none());
        } else {
            assert_eq!(
                get("pending_signatures"),
                Some(members(&w, who, "status=pending").await),
                "{role}"
            );
            assert_eq!(
                get("contracts_to_resign"),
                Some(
                    members(&w, who, "status=active&contract_current=false").await
                        + members(&w, who, "status=exiting&contract_current=false").await
                ),
                "{role}"
            );
            assert_eq!(
                get("waitlist"),
                Some(count(&w, who, "/waitlist").await),
                "{role}"
            );
        }
    }
    // The counts are not all zero: the comparison above means something.
    let d = w.app.get(Some(&w.ther), "/me/dashboard").await.expect(200);
    assert_eq!(d.body["sessions_today"], 1, "{}", d.text);
    assert_eq!(d.body["documentation_incomplete"], 2);
    assert_eq!(d.body["documentation_overdue"], 1);
    assert_eq!(d.body["members_at_risk"], 1);
    assert_eq!(d.body["members_exiting"], 1);
    assert_eq!(d.body["pending_signatures"], 1);
    assert_eq!(d.body["waitlist"], 1);
    let d = w.app.get(Some(&w.sup), "/me/dashboard").await.expect(200);
    assert_eq!(d.body["sessions_today"], 2);
    assert_eq!(d.body["documentation_overdue"], 2);
    assert_eq!(d.body["awaiting_cosign"], 2);
    assert_eq!(d.body["waitlist"], 2);
}

#[actix_web::test]
async fn a_new_agreement_version_is_to_be_re_signed() {
    let w = World::new().await;
    enrich(&w);
    let d = w
        .app
        .get(Some(&w.intake), "/me/dashboard")
        .await
        .expect(200);
    assert_eq!(d.body["contracts_to_resign"], 0);
    fixtures::contract(&w.app, w.group, 2, w.sup.id);
    // m1, m2, the member at risk and the exiting one hold version 1; the pending one signed
    // nothing yet (counted in pending_signatures instead).
    for who in [&w.intake, &w.ther, &w.sup] {
        let d = w.app.get(Some(who), "/me/dashboard").await.expect(200);
        assert_eq!(d.body["contracts_to_resign"], 4, "{}", d.text);
        let to_resign = members(&w, who, "status=active&contract_current=false").await
            + members(&w, who, "status=exiting&contract_current=false").await;
        assert_eq!(to_resign, 4);
    }
    let d = w
        .app
        .get(Some(&w.other_ther), "/me/dashboard")
        .await
        .expect(200);
    assert_eq!(
        d.body["contracts_to_resign"], 0,
        "another group's agreement"
    );
    w.app
        .get(None, "/me/dashboard")
        .await
        .expect_problem(401, "unauthorized");
}
