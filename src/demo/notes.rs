//! Demo notes: a signed group note for every held session of the active group, and signed
//! member notes for a few members, some co-signed, one with an addendum.

use diesel::prelude::*;
use serde_json::json;

use super::{DemoGroups, DemoSessions, DemoStaff};
use crate::domain::note::NoteStatus;
use crate::notes::crypto::NotesCipher;
use crate::notes::model::{self, Target};

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
    g: &DemoGroups,
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
        sign(conn, group_note, lead, i % 3 == 0, staff)?;
        for (m, member) in g.active_members.iter().take(3).enumerate() {
            let target = Target::Member {
                session_id: *session_id,
                membership_id: *member,
            };
            let participation = ["active", "moderate", "minimal"][(i + m) % 3];
            model::insert(
                conn,
                cipher,
                target,
                lead,
                &json!({
                    "participation": participation,
                    "progress": "Working on asking for help before cravings peak.",
                    "risk_flags": if (i + m) % 11 == 0 { json!(["relapse"]) } else { json!([]) },
                    "content": "Spoke about a difficult week and received support from the group."
                }),
            )?;
            sign(conn, target, lead, false, staff)?;
        }
    }
    if let Some(last) = s.held.last() {
        let note = model::find(conn, Target::Group { session_id: *last }, false)?
            .ok_or_else(|| anyhow::anyhow!("note missing"))?;
        model::add_addendum(
            conn,
            cipher,
            &note,
            lead,
            "Correction: the member who arrived late had called ahead.",
        )?;
    }
    Ok(())
}

fn sign(
    conn: &mut PgConnection,
    target: Target,
    author: uuid::Uuid,
    cosign: bool,
    staff: &DemoStaff,
) -> anyhow::Result<()> {
    let note = model::find(conn, target, false)?.ok_or_else(|| anyhow::anyhow!("note missing"))?;
    model::advance(conn, &note, NoteStatus::Signed, author)?;
    if cosign {
        let note =
            model::find(conn, target, false)?.ok_or_else(|| anyhow::anyhow!("note missing"))?;
        model::advance(conn, &note, NoteStatus::Cosigned, staff.supervisor)?;
    }
    Ok(())
}
