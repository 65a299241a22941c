//! `groupwork demo`: a realistic practice in an empty database (SPEC §6), and the logins.
//! Each area adds its part in its own file, in dependency order below.

mod clients;
mod groups;
mod notes;
mod part2;
pub mod scale;
mod sessions;
mod staff;

use diesel::prelude::*;

pub use clients::DemoClients;
pub use groups::DemoGroups;
pub use sessions::DemoSessions;
pub use staff::{DemoStaff, DEMO_PASSWORD};

/// Loads the demo practice unless the database already holds data; prints the logins.
pub fn run(database_url: &str, cipher: &crate::notes::crypto::NotesCipher) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(database_url)?;
    let existing: i64 = crate::schema::users::table.count().get_result(&mut conn)?;
    if existing > 0 {
        if staff::demo_loaded(&mut conn)? {
            println!("The demo practice is already loaded.");
            staff::print_logins();
        } else {
            println!(
                "The database already holds staff accounts; the demo practice was not loaded."
            );
        }
        return Ok(());
    }
    let password_hash = crate::auth::password::hash_password_blocking(DEMO_PASSWORD)?;
    conn.transaction::<_, anyhow::Error, _>(|conn| {
        let staff = staff::load(conn, &password_hash)?;
        let clients = clients::load(conn, &staff)?;
        let groups = groups::load(conn, &staff, &clients)?;
        let sessions = sessions::load(conn, &staff, &groups)?;
        notes::load(conn, cipher, &staff, &sessions)?;
        part2::load(conn, cipher, &staff, &groups)?;
        // The demo writes its screening assessments and exit reasons as plain text; they are
        // sealed here as rows from before encryption would be (src/notes/fields.rs).
        crate::notes::fields::seal_legacy(conn, cipher)?;
        Ok(())
    })?;
    println!("Loaded the demo practice.");
    staff::print_logins();
    Ok(())
}
