//! `groupwork rotate-notes-key`: re-encrypts every note and addendum under
//! `GROUPWORK_NOTES_KEY`, reading rows still under `GROUPWORK_NOTES_KEY_PREVIOUS`. One
//! transaction: either every row moves to the new key or none does.

use diesel::prelude::*;
use uuid::Uuid;

use super::crypto::{NotesCipher, Sealed};
use super::model::{self, addendum_aad, NoteRow, Target};
use crate::schema::{group_notes, member_notes, note_addenda};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    pub group_notes: usize,
    pub member_notes: usize,
    pub addenda: usize,
    pub already_current: usize,
}

fn rotate_notes(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    targets: Vec<Target>,
) -> anyhow::Result<usize> {
    let mut n = 0;
    for target in targets {
        let note: NoteRow = model::find(conn, target, true)?
            .ok_or_else(|| anyhow::anyhow!("note vanished during rotation"))?;
        let fields = note
            .open(cipher)
            .map_err(|e| anyhow::anyhow!("note {}: {e}", note.id))?;
        model::store(conn, cipher, &note, &fields, false)?;
        n += 1;
    }
    Ok(n)
}

pub fn rotate(conn: &mut PgConnection, cipher: &NotesCipher) -> anyhow::Result<Rotated> {
    let current = cipher.current_key_id().to_string();
    conn.transaction(|conn| {
        let groups: Vec<Uuid> = group_notes::table
            .filter(group_notes::key_id.ne(&current))
            .select(group_notes::session_id)
            .load(conn)?;
        let members: Vec<(Uuid, Uuid)> = member_notes::table
            .filter(member_notes::key_id.ne(&current))
            .select((member_notes::session_id, member_notes::membership_id))
            .load(conn)?;
        let mut out = Rotated {
            group_notes: rotate_notes(
                conn,
                cipher,
                groups
                    .into_iter()
                    .map(|session_id| Target::Group { session_id })
                    .collect(),
            )?,
            member_notes: rotate_notes(
                conn,
                cipher,
                members
                    .into_iter()
                    .map(|(session_id, membership_id)| Target::Member {
                        session_id,
                        membership_id,
                    })
                    .collect(),
            )?,
            ..Rotated::default()
        };
        let addenda: Vec<model::AddendumRow> = note_addenda::table
            .filter(note_addenda::key_id.ne(&current))
            .select(model::AddendumRow::as_select())
            .for_update()
            .load(conn)?;
        for a in addenda {
            let plain = a
                .open(cipher)
                .map_err(|e| anyhow::anyhow!("addendum {}: {e}", a.id))?;
            let Sealed {
                key_id,
                nonce,
                ciphertext,
            } = cipher.seal(&addendum_aad(a.note_id, a.id), plain.as_bytes());
            diesel::update(note_addenda::table.find(a.id))
                .set((
                    note_addenda::key_id.eq(key_id),
                    note_addenda::nonce.eq(nonce),
                    note_addenda::ciphertext.eq(ciphertext),
                ))
                .execute(conn)?;
            out.addenda += 1;
        }
        let total: i64 = group_notes::table.count().get_result::<i64>(conn)?
            + member_notes::table.count().get_result::<i64>(conn)?
            + note_addenda::table.count().get_result::<i64>(conn)?;
        out.already_current = total as usize - out.group_notes - out.member_notes - out.addenda;
        Ok(out)
    })
}

/// The CLI entry point.
pub fn run(settings: &crate::config::Settings) -> anyhow::Result<()> {
    let Some(previous) = settings.notes_key_previous.as_ref() else {
        anyhow::bail!(
            "GROUPWORK_NOTES_KEY_PREVIOUS is required: the key the notes are encrypted with now"
        );
    };
    let cipher = NotesCipher::new(&settings.notes_key, Some(previous));
    let mut conn = PgConnection::establish(&settings.database_url)?;
    let r = rotate(&mut conn, &cipher)?;
    println!(
        "re-encrypted {} group notes, {} member notes and {} addenda under key {}; {} were already current",
        r.group_notes,
        r.member_notes,
        r.addenda,
        cipher.current_key_id(),
        r.already_current
    );
    Ok(())
}
