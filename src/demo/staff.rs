//! Demo staff: one of every role, and three therapists to lead groups.

use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::Role;
use crate::schema::users;
use crate::users::model::Approval;

pub const DEMO_PASSWORD: &str = "demo-harbor-lantern-2026";

const LOGINS: &[(&str, &str, Role)] = &[
    ("admin@demo.groupwork.test", "Avery Admin", Role::Admin),
    (
        "supervisor@demo.groupwork.test",
        "Dr. Sam Rivera",
        Role::Supervisor,
    ),
    (
        "therapist@demo.groupwork.test",
        "Jordan Lee, LCSW",
        Role::Therapist,
    ),
    (
        "therapist2@demo.groupwork.test",
        "Morgan Price, PhD",
        Role::Therapist,
    ),
    (
        "therapist3@demo.groupwork.test",
        "Casey Okafor, LPC",
        Role::Therapist,
    ),
    ("intake@demo.groupwork.test", "Riley Intake", Role::Intake),
];

pub struct DemoStaff {
    pub admin: Uuid,
    pub supervisor: Uuid,
    /// The first therapist is the one printed as `therapist@…`.
    pub therapists: Vec<Uuid>,
    pub intake: Uuid,
}

pub fn load(conn: &mut PgConnection, password_hash: &str) -> anyhow::Result<DemoStaff> {
    let mut ids = Vec::new();
    for (email, name, role) in LOGINS {
        let id = Uuid::new_v4();
        diesel::insert_into(users::table)
            .values((
                users::id.eq(id),
                users::email.eq(email),
                users::display_name.eq(name),
                users::role.eq(role),
                users::password_hash.eq(password_hash),
                // Loaded from the console, like `create-user`: no approval awaited.
                users::approval.eq(Approval::Approved),
            ))
            .execute(conn)?;
        ids.push(id);
    }
    Ok(DemoStaff {
        admin: ids[0],
        supervisor: ids[1],
        therapists: vec![ids[2], ids[3], ids[4]],
        intake: ids[5],
    })
}

pub fn demo_loaded(conn: &mut PgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::email.eq(LOGINS[0].0)),
    ))
    .get_result(conn)
}

pub fn print_logins() {
    println!("Demo logins (password for all: {DEMO_PASSWORD}):");
    for (email, name, role) in LOGINS {
        println!("  {:<11} {:<34} {}", role.as_str(), email, name);
    }
}
