//! Issue 16: re-signing an amended agreement — `signatures`, `contract_current`,
//! `?contract_current=false`, the refusals, and concurrent re-signs of one member.

use chrono::{Duration, Utc};
use groupwork::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

struct World {
    app: TestApp,
    sup: TestUser,
    group: Uuid,
    v1: Uuid,
    members: Vec<Uuid>,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let group = fixtures::group(&app, ther.id).status("active").create();
    let v1 = fixtures::contract(&app, group, 1, sup.id);
    let members = (0..3)
        .map(|_| {
            fixtures::active_member(&app, group, v1, sup.id, Utc::now() - Duration::weeks(3)).0
        })
        .collect();
    World {
        app,
        sup,
        group,
        v1,
        members,
    }
}

impl World {
    async fn amend(&self) -> Uuid {
        let r = self
            .app
            .post(
                Some(&self.sup),
                &format!("/groups/{}/contracts", self.group),
                json!({"clauses": {"attendance": "Come weekly; call ahead", "confidentiality": "What is said here stays here",
                    "outside_socialization": "None", "substance_use": "Sober", "exit_notice": "Three sessions", "other": "Phones off"}}),
            )
            .await
            .expect(201);
        assert_eq!(r.body["version"], 2);
        r.body["id"].as_str().unwrap().parse().unwrap()
    }

    async fn sign(&self, m: Uuid, contract: Uuid, name: &str) -> crate::helpers::Resp {
        self.app
            .post(
                Some(&self.sup),
                &format!("/memberships/{m}/sign"),
                json!({"contract_id": contract, "signature_name": name}),
            )
            .await
    }

    async fn yet_to_resign(&self) -> Vec<String> {
        let r = self
            .app
            .get(
                Some(&self.sup),
                &format!("/groups/{}/members?contract_current=false", self.group),
            )
            .await
            .expect(200);
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    }
}

#[actix_web::test]
async fn members_resign_an_amended_agreement() {
    let w = world().await;
    let [a, b, c] = [w.members[0], w.members[1], w.members[2]];
    let before = w
        .app
        .get(Some(&w.sup), &format!("/memberships/{a}"))
        .await
        .expect(200)
        .body;
    assert_eq!(before["contract_current"], true);
    assert_eq!(before["signatures"].as_array().unwrap().len(), 1);
    assert_eq!(before["signatures"][0]["version"], 1);
    assert!(w.yet_to_resign().await.is_empty());
    let v2 = w.amend().await;
    let mut all = w.yet_to_resign().await;
    all.sort();
    let mut expected: Vec<String> = w.members.iter().map(Uuid::to_string).collect();
    expected.sort();
    assert_eq!(all, expected, "everyone has yet to re-sign");
    // the old version is refused
    w.sign(a, w.v1, "A. Member")
        .await
        .expect_problem(409, "contract_outdated");
    // bad input names the field
    let r = w
        .sign(a, v2, " ")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "signature_name");
    let r = w.sign(a, v2, "A. Member").await.expect(200);
    let m: Value = r.body;
    assert_eq!(m["status"], "active");
    assert_eq!(m["contract_current"], true);
    assert_eq!(
        m["joined_on"], before["joined_on"],
        "joined_on does not change"
    );
    assert_eq!(m["signed_at"], before["signed_at"]);
    let versions: Vec<i64> = m["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![1, 2], "oldest first");
    assert_eq!(m["signatures"][1]["signature_name"], "A. Member");
    assert_eq!(m["signatures"][1]["witness_id"], w.sup.id.to_string());
    assert_eq!(m["signatures"][1]["contract_id"], v2.to_string());
    w.sign(a, v2, "A. Member")
        .await
        .expect_problem(409, "already_signed");
    // an exiting member re-signs too and stays exiting
    fixtures::member_status(&w.app, b, "exiting");
    let r = w.sign(b, v2, "B. Member").await.expect(200);
    assert_eq!(r.body["status"], "exiting");
    assert_eq!(w.yet_to_resign().await, vec![c.to_string()]);
    // an exited member signs nothing
    fixtures::exit_member(&w.app, c, "relocated", Utc::now());
    w.sign(c, v2, "C. Member")
        .await
        .expect_problem(409, "conflict");
    assert!(w.yet_to_resign().await.is_empty());
    assert_eq!(w.app.audit_actions("membership.resign").len(), 2);
}

#[actix_web::test]
async fn concurrent_resigns_of_one_member_record_one_signature() {
    let w = world().await;
    let v2 = w.amend().await;
    let m = w.members[0];
    let path = format!("/memberships/{m}/sign");
    let results = futures::future::join_all((0..10).map(|i| {
        w.app.post(
            Some(&w.sup),
            &path,
            json!({"contract_id": v2, "signature_name": format!("Member {i}")}),
        )
    }))
    .await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    let already = results
        .iter()
        .filter(|r| r.status == 409 && r.body["code"] == "already_signed")
        .count();
    assert_eq!((ok, already), (1, 9));
    let r = w
        .app
        .get(Some(&w.sup), &format!("/memberships/{m}"))
        .await
        .expect(200);
    assert_eq!(r.body["signatures"].as_array().unwrap().len(), 2);
}

/// A new version published while a member signs the old one: the group lock orders them, so
/// the signature is either of the then-current version or refused as outdated.
#[actix_web::test]
async fn resign_races_a_new_version() {
    let w = world().await;
    let v2 = w.amend().await;
    let m = w.members[0];
    let path = format!("/groups/{}/contracts", w.group);
    let (sign, amend) = futures::join!(
        w.sign(m, v2, "M"),
        w.app.post(
            Some(&w.sup),
            &path,
            json!({"clauses": {"attendance": "v3", "confidentiality": "c", "outside_socialization": "o",
                "substance_use": "s", "exit_notice": "e", "other": ""}}),
        )
    );
    assert_eq!(amend.status, 201);
    match sign.status {
        200 => assert_eq!(sign.body["signatures"][1]["version"], 2),
        409 => assert_eq!(sign.body["code"], "contract_outdated"),
        s => panic!("{s}: {}", sign.text),
    }
    let r = w
        .app
        .get(Some(&w.sup), &format!("/memberships/{m}"))
        .await
        .expect(200);
    assert_eq!(
        r.body["contract_current"], false,
        "version 3 is current now"
    );
}
