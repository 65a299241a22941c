//! A therapist's scope (SPEC §1), as the helpers in `groupwork::auth::scope` compute it for
//! every later issue: groups they lead or co-lead, clients with a seat of any status there,
//! clients of screenings assigned to them. Outside it: 404, never 403.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use groupwork::auth::scope::{
    ensure_client, ensure_group, is_client_in_therapist_scope, is_group_therapist,
    therapist_client_ids, therapist_group_ids,
};
use groupwork::auth::{RequestMeta, Role, Staff};
use groupwork::error::AppError;
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

fn staff(u: &TestUser) -> Staff {
    Staff {
        id: u.id,
        role: u.role,
        email: u.email.clone(),
        display_name: "Test".into(),
        meta: RequestMeta {
            request_id: "scope-test".into(),
            ip: None,
        },
    }
}

fn sorted(mut v: Vec<Uuid>) -> Vec<Uuid> {
    v.sort();
    v
}

#[actix_web::test]
async fn scope_helpers_follow_the_spec() {
    let app = TestApp::spawn().await;
    let (lead, co, outsider) = (
        app.staff(Role::Therapist).await,
        app.staff(Role::Therapist).await,
        app.staff(Role::Therapist).await,
    );
    let supervisor = app.staff(Role::Supervisor).await;
    let intake = app.staff(Role::Intake).await;
    let g1 = fixtures::group(&app, lead.id).co(vec![co.id]).create();
    let g2 = fixtures::group(&app, co.id).create();
    let contract = fixtures::contract(&app, g1, 1, supervisor.id);
    let signed = Utc::now() - Duration::days(20);
    let (membership, seated) = fixtures::active_member(&app, g1, contract, supervisor.id, signed);
    let screened = fixtures::client(&app, "Screened", "Client");
    fixtures::accepted_screening(&app, screened, outsider.id, None, 3);
    let stranger = fixtures::client(&app, "Stranger", "Client");

    let mut conn = app.conn();
    assert_eq!(therapist_group_ids(&mut conn, lead.id).unwrap(), [g1]);
    assert_eq!(
        sorted(therapist_group_ids(&mut conn, co.id).unwrap()),
        sorted(vec![g1, g2])
    );
    assert!(therapist_group_ids(&mut conn, outsider.id)
        .unwrap()
        .is_empty());
    assert!(is_group_therapist(&mut conn, co.id, g1).unwrap());
    assert!(!is_group_therapist(&mut conn, lead.id, g2).unwrap());

    assert_eq!(therapist_client_ids(&mut conn, lead.id).unwrap(), [seated]);
    assert_eq!(therapist_client_ids(&mut conn, co.id).unwrap(), [seated]);
    assert_eq!(
        therapist_client_ids(&mut conn, outsider.id).unwrap(),
        [screened]
    );
    assert!(is_client_in_therapist_scope(&mut conn, outsider.id, screened).unwrap());
    assert!(!is_client_in_therapist_scope(&mut conn, lead.id, stranger).unwrap());

    // A seat of any status: an exited member stays in scope (their history is the group's).
    {
        use groupwork::schema::memberships as m;
        diesel::update(m::table.find(membership))
            .set((
                m::status.eq("exited"),
                m::exit_reason.eq("completed"),
                m::exited_at.eq(Utc::now()),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    assert!(is_client_in_therapist_scope(&mut conn, lead.id, seated).unwrap());

    let not_found = |r: Result<(), AppError>| matches!(r, Err(AppError::NotFound));
    assert!(ensure_group(&mut conn, &staff(&lead), g1).is_ok());
    assert!(not_found(ensure_group(&mut conn, &staff(&outsider), g1)));
    assert!(ensure_group(&mut conn, &staff(&supervisor), g2).is_ok());
    assert!(ensure_group(&mut conn, &staff(&intake), g2).is_ok());
    assert!(not_found(ensure_group(
        &mut conn,
        &staff(&supervisor),
        Uuid::new_v4()
    )));
    assert!(ensure_client(&mut conn, &staff(&lead), seated).is_ok());
    assert!(not_found(ensure_client(&mut conn, &staff(&lead), stranger)));
    assert!(ensure_client(&mut conn, &staff(&intake), stranger).is_ok());
    assert!(not_found(ensure_client(
        &mut conn,
        &staff(&intake),
        Uuid::new_v4()
    )));

    // Over HTTP: out of scope is 404, exactly like an id that does not exist.
    app.get(Some(&outsider), &format!("/groups/{g1}"))
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&lead), &format!("/groups/{g1}"))
        .await
        .expect(200);
    app.get(Some(&lead), &format!("/clients/{stranger}"))
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&intake), &format!("/clients/{stranger}"))
        .await
        .expect(200);
}
