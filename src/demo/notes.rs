//! Demo notes: a signed group note for every held session of the active group (some
//! co-signed), signed member notes for the first members seated at each, and an addendum.
//! Written under the notes key, like every note.

use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::{DemoSessions, DemoStaff};
use crate::domain::note::NoteStatus;
use crate::notes::addenda;
use crate::notes::crypto::NotesCipher;
use crate::notes::model::{self, Target};
use crate::roster;
use crate::schema::{clients, memberships};

const THEMES: &[&str] = &[
    "Trust and whether the group is safe enough to be honest.",
    "Shame about relapse, and being seen rather than judged.",
    "Anger at authority; who in the room stands in for it.",
    "Loneliness during holidays and the pull to isolate.",
    "Saying goodbye: a member's upcoming departure.",
];

pub fn load(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    staff: &DemoStaff,
    s: &DemoSessions,
) -> anyhow::Result<()> {
    let lead = staff.therapists[0];
    for (i, session_id) in s.held.iter().enumerate() {
        let group_note = Target::Group {
            session_id: *session_id,
        };
        model::insert(
            conn,
            cipher,
            group_note,
            lead,
            &json!({
                "themes": THEMES[i % THEMES.len()],
                "group_process": "Members responded to each other more directly than last week; one conflict was named and worked through.",
                "interventions": "Linked members' reactions; invited here-and-now feedback.",
                "plan": "Follow up on the unresolved tension between two members."
            }),
        )?;
        sign(
            conn,
            group_note,
            lead,
            (i % 3 == 0).then_some(staff.supervisor),
        )?;
        let seated = roster::seated_at_session(conn, *session_id)?;
        // A fellow member's first name, typed into the first member's note the way clinicians
        // do: that client's record export shows it as "[group member]". Always another member
        // than the one the note is about.
        let fellow: Option<String> = match seated.get(1) {
            Some(other) => Some(
                memberships::table
                    .inner_join(clients::table)
                    .filter(memberships::id.eq(other))
                    .select(clients::first_name)
                    .first(conn)?,
            ),
            None => None,
        };
        for (m, member) in seated.iter().take(3).enumerate() {
            let target = Target::Member {
                session_id: *session_id,
                membership_id: *member,
            };
            let participation = ["active", "moderate", "minimal"][(i + m) % 3];
            let content = if let (0, Some(fellow)) = (m, &fellow) {
                format!("Spoke about a difficult week; {fellow} offered support and was thanked.")
            } else {
                "Spoke about a difficult week and received support from the group.".to_string()
            };
            model::insert(
                conn,
                cipher,
                target,
                lead,
                &json!({
                    "participation": participation,
                    "progress": "Working on asking for help before cravings peak.",
                    "risk_flags": if (i + m) % 11 == 0 { json!(["relapse"]) } else { json!([]) },
                    "content": content
                }),
            )?;
            sign(conn, target, lead, None)?;
        }
    }
    if let Some(last) = s.held.last() {
        let note = model::find(conn, Target::Group { session_id: *last }, false)?
            .ok_or_else(|| anyhow::anyhow!("note missing"))?;
        addenda::insert(
            conn,
            cipher,
            &note,
            lead,
            "Correction: the member who arrived late had called ahead.",
        )?;
    }
    Ok(())
}

/// Signs the note as its author, and co-signs it when a supervisor is given.
fn sign(
    conn: &mut PgConnection,
    target: Target,
    author: Uuid,
    cosigner: Option<Uuid>,
) -> anyhow::Result<()> {
    let note = model::find(conn, target, false)?.ok_or_else(|| anyhow::anyhow!("note missing"))?;
    model::advance(conn, &note, NoteStatus::Signed, author)?;
    if let Some(supervisor) = cosigner {
        model::advance(conn, &note, NoteStatus::Cosigned, supervisor)?;
    }
    Ok(())
}
