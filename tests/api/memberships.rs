//! Issue 5: admissions, signatures, discharge, withdraw — rules, races, role and scope matrix.

use chrono::{Duration, Utc};
use futures::future::join_all;
use groupwork::auth::Role;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

struct Setup {
    app: TestApp,
    sup: TestUser,
    lead: TestUser,
    group: Uuid,
    contract: Uuid,
}

async fn setup(max: i32) -> Setup {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let lead = app.staff(Role::Therapist).await;
    let group = fixtures::group(&app, lead.id).sizes(8, max).create();
    let contract = fixtures::contract(&app, group, 1, sup.id);
    Setup {
        app,
        sup,
        lead,
        group,
        contract,
    }
}

/// A new client with a fresh accepted screening for `group`.
fn candidate(s: &Setup) -> (Uuid, Uuid) {
    let c = fixtures::client(
        &s.app,
        "Cand",
        &format!("C{}", &Uuid::new_v4().simple().to_string()[..6]),
    );
    let sc = fixtures::accepted_screening(&s.app, c, s.lead.id, Some(s.group), 5);
    (c, sc)
}

async fn admit(s: &Setup, by: &TestUser, client: Uuid, screening: Uuid) -> crate::helpers::Resp {
    s.app
        .post(
            Some(by),
            &format!("/groups/{}/members", s.group),
            json!({"client_id": client, "screening_id": screening}),
        )
        .await
}

#[actix_web::test]
async fn admission_sign_and_fields() {
    let s = setup(15).await;
    let (c, sc) = candidate(&s);
    let r = admit(&s, &s.lead, c, sc).await.expect(201);
    let m = r.body;
    assert_eq!(m["status"], "pending");
    assert_eq!(m["client"]["id"], c.to_string());
    for f in [
        "minimum_term_met",
        "sessions_held_since_join",
        "planned_last_session_id",
        "at_risk",
        "joined_on",
    ] {
        assert!(m.get(f).is_some(), "missing {f}");
    }
    let id = m["id"].as_str().unwrap();
    let intake = s.app.staff(Role::Intake).await;
    let signed_at = (Utc::now() - Duration::days(2)).to_rfc3339();
    let r = s
        .app
        .post(
            Some(&intake),
            &format!("/memberships/{id}/sign"),
            json!({"contract_id": s.contract, "signature_name": "Cand C", "signed_at": signed_at}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "active");
    assert_eq!(
        r.body["joined_on"],
        (Utc::now() - Duration::days(2)).date_naive().to_string()
    );
    assert_eq!(r.body["witness_id"], intake.id.to_string());
    assert_eq!(r.body["minimum_term_met"], false);
    // signing the same version twice: already signed (v2)
    s.app
        .post(
            Some(&intake),
            &format!("/memberships/{id}/sign"),
            json!({"contract_id": s.contract, "signature_name": "Cand C"}),
        )
        .await
        .expect_problem(409, "already_signed");
    assert_eq!(s.app.audit_actions("membership.admit").len(), 1);
    assert_eq!(s.app.audit_actions("membership.sign").len(), 1);
}

#[actix_web::test]
async fn admission_rules_and_codes() {
    let s = setup(15).await;
    let (c, sc) = candidate(&s);
    // screening of another client, expired, declined, for another group
    let (other_client, other_sc) = candidate(&s);
    admit(&s, &s.sup, c, other_sc)
        .await
        .expect_problem(409, "screening_required");
    let expired = fixtures::accepted_screening(&s.app, other_client, s.lead.id, None, 91);
    admit(&s, &s.sup, other_client, expired)
        .await
        .expect_problem(409, "screening_required");
    let elsewhere = fixtures::group(&s.app, s.lead.id).create();
    let for_elsewhere =
        fixtures::accepted_screening(&s.app, other_client, s.lead.id, Some(elsewhere), 2);
    admit(&s, &s.sup, other_client, for_elsewhere)
        .await
        .expect_problem(409, "screening_required");
    let for_none = fixtures::accepted_screening(&s.app, other_client, s.lead.id, None, 2);
    admit(&s, &s.sup, other_client, for_none).await.expect(201);
    admit(&s, &s.sup, c, sc).await.expect(201);
    admit(&s, &s.sup, c, sc)
        .await
        .expect_problem(409, "already_member");
    s.app
        .post(
            Some(&s.sup),
            &format!("/groups/{}/members", s.group),
            json!({"client_id": Uuid::new_v4(), "screening_id": sc}),
        )
        .await
        .expect_invalid("client_id");
    s.app
        .post(
            Some(&s.sup),
            &format!("/groups/{}/members", s.group),
            json!({"client_id": "nope"}),
        )
        .await
        .expect_invalid("client_id");
}

#[actix_web::test]
async fn closed_enrollment_and_supervisor_override() {
    let s = setup(15).await;
    for _ in 0..8 {
        fixtures::active_member(&s.app, s.group, s.contract, s.sup.id, Utc::now());
    }
    s.app
        .post(
            Some(&s.sup),
            &format!("/groups/{}/start", s.group),
            json!({}),
        )
        .await
        .expect(200);
    let (c, sc) = candidate(&s);
    admit(&s, &s.lead, c, sc)
        .await
        .expect_problem(409, "enrollment_closed");
    admit(&s, &s.sup, c, sc)
        .await
        .expect_problem(409, "enrollment_closed");
    let body = json!({"client_id": c, "screening_id": sc, "override_reason": "replacement for a member who moved away"});
    s.app
        .post(
            Some(&s.lead),
            &format!("/groups/{}/members", s.group),
            body.clone(),
        )
        .await
        .expect_problem(403, "forbidden");
    let r = s
        .app
        .post(Some(&s.sup), &format!("/groups/{}/members", s.group), body)
        .await
        .expect(201);
    assert_eq!(
        r.body["override_reason"],
        "replacement for a member who moved away"
    );
    let overrides = s.app.audit_actions("membership.enrollment_override");
    assert_eq!(overrides.len(), 1);
    assert_eq!(overrides[0].0, Some(s.sup.id));
}

#[actix_web::test]
async fn twenty_concurrent_requests_for_the_last_seat() {
    let s = setup(9).await;
    for _ in 0..8 {
        let (c, sc) = candidate(&s);
        admit(&s, &s.sup, c, sc).await.expect(201);
    }
    let candidates: Vec<(Uuid, Uuid)> = (0..20).map(|_| candidate(&s)).collect();
    let results = join_all(candidates.iter().map(|(c, sc)| admit(&s, &s.sup, *c, *sc))).await;
    let won = results.iter().filter(|r| r.status == 201).count();
    let full = results
        .iter()
        .filter(|r| r.status == 409 && r.body["code"] == "group_full")
        .count();
    assert_eq!(
        (won, full),
        (1, 19),
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let r = s
        .app
        .get(Some(&s.sup), &format!("/groups/{}", s.group))
        .await
        .expect(200);
    assert_eq!(r.body["seats"]["pending"], 9);
}

#[actix_web::test]
async fn same_client_admitted_twice_at_once() {
    let s = setup(15).await;
    let (c, sc) = candidate(&s);
    let results = join_all((0..10).map(|_| admit(&s, &s.sup, c, sc))).await;
    assert_eq!(results.iter().filter(|r| r.status == 201).count(), 1);
    assert!(results
        .iter()
        .filter(|r| r.status != 201)
        .all(|r| r.body["code"] == "already_member"));
    let r = s
        .app
        .get(
            Some(&s.sup),
            &format!("/groups/{}/members?status=pending", s.group),
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn sign_rules() {
    let s = setup(15).await;
    let (c, sc) = candidate(&s);
    let id = admit(&s, &s.sup, c, sc).await.expect(201).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/memberships/{id}/sign");
    let v2 = fixtures::contract(&s.app, s.group, 2, s.sup.id);
    s.app
        .post(
            Some(&s.sup),
            &path,
            json!({"contract_id": s.contract, "signature_name": "X"}),
        )
        .await
        .expect_problem(409, "contract_outdated");
    let future = (Utc::now() + Duration::days(1)).to_rfc3339();
    s.app
        .post(
            Some(&s.sup),
            &path,
            json!({"contract_id": v2, "signature_name": "X", "signed_at": future}),
        )
        .await
        .expect_invalid("signed_at");
    let before_screening = (Utc::now() - Duration::days(6)).to_rfc3339();
    s.app
        .post(
            Some(&s.sup),
            &path,
            json!({"contract_id": v2, "signature_name": "X", "signed_at": before_screening}),
        )
        .await
        .expect_invalid("signed_at");
    let other_group = fixtures::group(&s.app, s.lead.id).create();
    let foreign = fixtures::contract(&s.app, other_group, 1, s.sup.id);
    s.app
        .post(
            Some(&s.sup),
            &path,
            json!({"contract_id": foreign, "signature_name": "X"}),
        )
        .await
        .expect_invalid("contract_id");
    s.app
        .post(
            Some(&s.sup),
            &path,
            json!({"contract_id": v2, "signature_name": "  "}),
        )
        .await
        .expect_invalid("signature_name");
    let r = s
        .app
        .get(Some(&s.sup), &format!("/memberships/{id}"))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "pending", "refusals changed nothing");
    s.app
        .post(
            Some(&s.sup),
            &path,
            json!({"contract_id": v2, "signature_name": "X"}),
        )
        .await
        .expect(200);
}

#[actix_web::test]
async fn discharge_and_withdraw() {
    let s = setup(15).await;
    let (active, _) = fixtures::active_member(
        &s.app,
        s.group,
        s.contract,
        s.sup.id,
        Utc::now() - Duration::days(20),
    );
    let (c, sc) = candidate(&s);
    let pending = admit(&s, &s.sup, c, sc).await.expect(201).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    // withdraw only from pending; discharge only from active/exiting
    s.app
        .post(
            Some(&s.lead),
            &format!("/memberships/{active}/withdraw"),
            json!({}),
        )
        .await
        .expect_problem(409, "conflict");
    s.app
        .post(
            Some(&s.lead),
            &format!("/memberships/{pending}/discharge"),
            json!({"exit_reason": "dropped_out", "note": "n"}),
        )
        .await
        .expect_problem(409, "conflict");
    s.app
        .post(
            Some(&s.lead),
            &format!("/memberships/{active}/discharge"),
            json!({"exit_reason": "completed", "note": "n"}),
        )
        .await
        .expect_invalid("exit_reason");
    s.app
        .post(
            Some(&s.lead),
            &format!("/memberships/{active}/discharge"),
            json!({"exit_reason": "transferred", "note": " "}),
        )
        .await
        .expect_invalid("note");
    let r = s
        .app
        .post(
            Some(&s.lead),
            &format!("/memberships/{active}/discharge"),
            json!({"exit_reason": "transferred", "note": "moved to the IOP track"}),
        )
        .await
        .expect(200);
    assert_eq!(
        (r.body["status"].as_str(), r.body["exit_reason"].as_str()),
        (Some("exited"), Some("transferred"))
    );
    assert!(r.body["exited_at"].is_string());
    let r = s
        .app
        .post(
            Some(&s.lead),
            &format!("/memberships/{pending}/withdraw"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["exit_reason"], "withdrawn");
    // exited is final
    s.app
        .post(
            Some(&s.lead),
            &format!("/memberships/{active}/discharge"),
            json!({"exit_reason": "other", "note": "again"}),
        )
        .await
        .expect_problem(409, "conflict");
    s.app
        .post(
            Some(&s.lead),
            &format!("/memberships/{pending}/withdraw"),
            json!({}),
        )
        .await
        .expect_problem(409, "conflict");
    // the client may be admitted again (a new membership) after a new screening (v2: the
    // one used before admits once)
    admit(&s, &s.sup, c, sc)
        .await
        .expect_problem(409, "screening_required");
    let again = fixtures::accepted_screening(&s.app, c, s.lead.id, Some(s.group), 1);
    admit(&s, &s.sup, c, again).await.expect(201);
    assert_eq!(s.app.audit_actions("membership.discharge").len(), 1);
    // the discharge note is clinical: admin and intake do not see it
    let admin = s.app.staff(Role::Admin).await;
    let r = s
        .app
        .get(Some(&admin), &format!("/memberships/{active}"))
        .await
        .expect(200);
    assert!(r.body["exit_note"].is_null());
}

#[actix_web::test]
async fn member_list_filters_and_role_matrix() {
    let s = setup(15).await;
    let admin = s.app.staff(Role::Admin).await;
    let intake = s.app.staff(Role::Intake).await;
    let stranger = s.app.staff(Role::Therapist).await;
    let (m1, _) = fixtures::active_member(
        &s.app,
        s.group,
        s.contract,
        s.sup.id,
        Utc::now() - Duration::days(30),
    );
    let (m2, _) = fixtures::active_member(
        &s.app,
        s.group,
        s.contract,
        s.sup.id,
        Utc::now() - Duration::days(30),
    );
    let jan = Utc::now() - Duration::days(21);
    for (i, status) in [
        "unexcused_absence",
        "unexcused_absence",
        "unexcused_absence",
    ]
    .iter()
    .enumerate()
    {
        let sess = fixtures::session(
            &s.app,
            s.group,
            i as i32 + 1,
            jan + Duration::days(7 * i as i64),
            "held",
        );
        fixtures::attendance(&s.app, sess, m1, status, s.sup.id);
        fixtures::attendance(&s.app, sess, m2, "present", s.sup.id);
    }
    let path = format!("/groups/{}/members", s.group);
    for u in [&admin, &s.sup, &intake, &s.lead] {
        let r = s.app.get(Some(u), &path).await.expect(200);
        assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    }
    let r = s
        .app
        .get(Some(&s.lead), &format!("{path}?at_risk=true"))
        .await
        .expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], m1.to_string());
    assert_eq!(items[0]["sessions_held_since_join"], 3);
    let r = s
        .app
        .get(Some(&s.lead), &format!("{path}?status=pending"))
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    s.app
        .get(Some(&s.lead), &format!("{path}?status=nonsense"))
        .await
        .expect_invalid("status");
    s.app
        .get(Some(&stranger), &path)
        .await
        .expect_problem(404, "not_found");
    s.app
        .get(Some(&stranger), &format!("/memberships/{m1}"))
        .await
        .expect_problem(404, "not_found");
    let (c, sc) = candidate(&s);
    for u in [&admin, &intake] {
        admit(&s, u, c, sc).await.expect_problem(403, "forbidden");
        s.app
            .post(
                Some(u),
                &format!("/memberships/{m1}/discharge"),
                json!({"exit_reason": "other", "note": "x"}),
            )
            .await
            .expect_problem(403, "forbidden");
        s.app
            .post(Some(u), &format!("/memberships/{m1}/withdraw"), json!({}))
            .await
            .expect_problem(403, "forbidden");
    }
    admit(&s, &stranger, c, sc)
        .await
        .expect_problem(404, "not_found");
    s.app
        .post(
            Some(&stranger),
            &format!("/memberships/{m1}/discharge"),
            json!({"exit_reason": "other", "note": "x"}),
        )
        .await
        .expect_problem(404, "not_found");
    s.app
        .post(
            Some(&admin),
            &format!("/memberships/{m1}/sign"),
            json!({"contract_id": s.contract, "signature_name": "x"}),
        )
        .await
        .expect_problem(403, "forbidden");
}
