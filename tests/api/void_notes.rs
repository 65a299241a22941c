//! Issue 16: notes entered in error — voided by the author or a supervisor with a reason, kept
//! for supervisors, never in a record export, not documentation, replaceable.

use groupwork::auth::Role;
use serde_json::{json, Value};

use crate::fixtures;
use crate::notes::{member_body, setup, GROUP_NOTE, MEMBER_NOTE};

async fn documentation(s: &crate::notes::Setup) -> Value {
    s.app
        .get(Some(&s.lead), &format!("/sessions/{}", s.session))
        .await
        .expect(200)
        .body["documentation"]
        .clone()
}

#[actix_web::test]
async fn voided_notes_are_kept_for_supervisors_and_leave_documentation_and_exports() {
    let s = setup().await;
    for m in [s.member, s.other_member] {
        fixtures::attendance(&s.app, s.session, m, "present", s.lead.id);
    }
    let g = format!("/sessions/{}/group-note", s.session);
    let mine = format!("/sessions/{}/member-notes/{}", s.session, s.member);
    let theirs = format!("/sessions/{}/member-notes/{}", s.session, s.other_member);
    s.app
        .put(Some(&s.lead), &g, crate::notes::group_body())
        .await
        .expect(201);
    for p in [&mine, &theirs] {
        s.app.put(Some(&s.lead), p, member_body()).await.expect(201);
    }
    for p in [&g, &mine, &theirs] {
        s.app
            .post(Some(&s.lead), &format!("{p}/sign"), json!({}))
            .await
            .expect(200);
    }
    assert_eq!(documentation(&s).await["complete"], true);

    // who may void, and bad input
    let intake = s.app.staff(Role::Intake).await;
    s.app
        .post(
            Some(&intake),
            &format!("{mine}/void"),
            json!({"reason": "x"}),
        )
        .await
        .expect(403);
    let co = s.app.staff(Role::Therapist).await;
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE groups SET co_therapist_ids = ARRAY['{}'::uuid] WHERE id = '{}'",
            co.id, s.group
        )),
        &mut s.app.conn(),
    )
    .unwrap();
    s.app
        .post(Some(&co), &format!("{mine}/void"), json!({"reason": "x"}))
        .await
        .expect(403);
    let r = s
        .app
        .post(
            Some(&s.lead),
            &format!("{mine}/void"),
            json!({"reason": " "}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "reason");

    // the author voids the member note
    let r = s
        .app
        .post(
            Some(&s.lead),
            &format!("{mine}/void"),
            json!({"reason": "written on the wrong member"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "voided");
    assert_eq!(r.body["void_reason"], "written on the wrong member");
    assert_eq!(r.body["voided_by"], s.lead.id.to_string());
    s.app
        .post(
            Some(&s.lead),
            &format!("{mine}/void"),
            json!({"reason": "again"}),
        )
        .await
        .expect_problem(409, "conflict");
    let d = documentation(&s).await;
    assert_eq!(
        (d["member_notes_signed"].as_i64(), d["complete"].as_bool()),
        (Some(1), Some(false)),
        "a voided note is not documentation"
    );
    // kept for supervisors only
    s.app
        .get(Some(&s.lead), &mine)
        .await
        .expect_problem(404, "not_found");
    let r = s.app.get(Some(&s.sup), &mine).await.expect(200);
    assert_eq!(r.body["status"], "voided");
    assert_eq!(r.body["content"], MEMBER_NOTE);
    // never in the record export
    let client: uuid::Uuid = diesel::RunQueryDsl::get_result(
        diesel::QueryDsl::select(
            diesel::QueryDsl::find(groupwork::schema::memberships::table, s.member),
            groupwork::schema::memberships::client_id,
        ),
        &mut s.app.conn(),
    )
    .unwrap();
    let r = s
        .app
        .get(Some(&s.sup), &format!("/clients/{client}/record"))
        .await
        .expect(200);
    assert!(!r.text.contains(MEMBER_NOTE), "{}", r.text);
    assert!(r.body["member_notes"].as_array().unwrap().is_empty());

    // a replacement is written and signed: documented again
    s.app
        .put(
            Some(&s.lead),
            &mine,
            json!({"participation": "moderate", "progress": "p", "risk_flags": [], "content": "the right note"}),
        )
        .await
        .expect(201);
    s.app
        .post(Some(&s.lead), &format!("{mine}/sign"), json!({}))
        .await
        .expect(200);
    assert_eq!(documentation(&s).await["complete"], true);
    let r = s
        .app
        .get(Some(&s.sup), &format!("/clients/{client}/record"))
        .await
        .expect(200);
    assert_eq!(r.body["member_notes"].as_array().unwrap().len(), 1);

    // a supervisor voids the (signed) group note
    let r = s
        .app
        .post(
            Some(&s.sup),
            &format!("{g}/void"),
            json!({"reason": "belongs to another session"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["themes"], GROUP_NOTE);
    let d = documentation(&s).await;
    assert_eq!(
        (d["group_note"].clone(), d["complete"].clone()),
        (Value::Null, json!(false))
    );
    let events = s.app.audit_actions("note.void");
    let allowed = events.iter().filter(|e| e.1 == "allowed").count();
    // every decision audited once: the intake coordinator's by the gate (its role may not
    // write notes), the rest as `note.void` (the co-therapist's 403 among them, not twice)
    assert_eq!((events.len(), allowed), (5, 2), "every decision audited");
    let forbidden = s.app.audit_actions("access.forbidden");
    assert_eq!(forbidden.len(), 1, "{forbidden:?}");
    assert_eq!(forbidden[0].0, Some(intake.id));
    assert_eq!(forbidden[0].3["permission"], "write_notes");
    assert!(s
        .app
        .audit_actions("note.void")
        .iter()
        .all(|e| !e.3.to_string().contains("wrong member")));
}
