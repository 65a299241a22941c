//! `groupwork rotate-notes-key`: re-encrypts every note, addendum, disclosed document and
//! sealed clinical text (assessments, exit reasons and notes: `super::fields`) under
//! `GROUPWORK_NOTES_KEY`, reading rows still under `GROUPWORK_NOTES_KEY_PREVIOUS`. Rows are
//! taken in batches (memory does not grow with the number of notes) inside one transaction:
//! either every row moves to the new key or none does. Rows already under the new key are
//! skipped, so running it again changes nothing.

use diesel::prelude::*;

use super::addenda;
use super::crypto::{keys_from_env, ClinicalReader, NotesCipher};
use super::fields;
use super::model::{self, Kind};
use crate::config::{Env, Settings};
use crate::disclosures::model as disclosures_model;
use crate::schema::{disclosures, group_notes, member_notes, note_addenda};

const BATCH: i64 = 500;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    /// Documents released by disclosures (SPEC §8), sealed under the notes key too.
    pub disclosures: usize,
    pub group_notes: usize,
    pub member_notes: usize,
    pub addenda: usize,
    /// Screening assessments and membership reasons and notes (`super::fields`).
    pub clinical_texts: usize,
    /// Clinical texts written before they were sealed, sealed now (under the new key).
    pub legacy_sealed: usize,
    /// Notes, addenda and documents that were already under the new key.
    pub already_current: usize,
}

fn already_current(conn: &mut PgConnection, key_id: &str) -> QueryResult<i64> {
    Ok(disclosures::table
        .filter(disclosures::key_id.eq(key_id))
        .count()
        .get_result::<i64>(conn)?
        + group_notes::table
            .filter(group_notes::key_id.eq(key_id))
            .count()
            .get_result::<i64>(conn)?
        + member_notes::table
            .filter(member_notes::key_id.eq(key_id))
            .count()
            .get_result::<i64>(conn)?
        + note_addenda::table
            .filter(note_addenda::key_id.eq(key_id))
            .count()
            .get_result::<i64>(conn)?)
}

fn rotate_notes(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    kind: Kind,
) -> anyhow::Result<usize> {
    let mut n = 0;
    loop {
        // Each resealed row leaves the selection, so the next batch starts where this ended.
        let batch = model::under_other_key(conn, kind, cipher.current_key_id(), BATCH)?;
        if batch.is_empty() {
            return Ok(n);
        }
        for note in &batch {
            let fields = note
                .open(&ClinicalReader::for_maintenance(cipher))
                .map_err(|e| anyhow::anyhow!("{} note {}: {e}", kind.as_str(), note.id))?;
            model::reseal(conn, cipher, note, &fields)?;
        }
        n += batch.len();
    }
}

fn rotate_addenda(conn: &mut PgConnection, cipher: &NotesCipher) -> anyhow::Result<usize> {
    let mut n = 0;
    loop {
        let batch = addenda::under_other_key(conn, cipher.current_key_id(), BATCH)?;
        if batch.is_empty() {
            return Ok(n);
        }
        for row in &batch {
            let content = row
                .content(&ClinicalReader::for_maintenance(cipher))
                .map_err(|e| anyhow::anyhow!("addendum {}: {e}", row.id))?;
            addenda::reseal(conn, cipher, row, &content)?;
        }
        n += batch.len();
    }
}

/// The documents released by disclosures (SPEC §8), each opened (and checked against its
/// recorded digest) then sealed again under the current key.
fn rotate_disclosures(conn: &mut PgConnection, cipher: &NotesCipher) -> anyhow::Result<usize> {
    let mut n = 0;
    loop {
        let batch = disclosures_model::under_other_key(conn, cipher.current_key_id(), BATCH)?;
        if batch.is_empty() {
            return Ok(n);
        }
        for row in &batch {
            let pdf = row
                .document(&ClinicalReader::for_maintenance(cipher))
                .map_err(|e| anyhow::anyhow!("disclosure {}: {e}", row.id))?;
            disclosures_model::reseal(conn, cipher, row, &pdf)?;
        }
        n += batch.len();
    }
}

/// Moves every row to the cipher's current key, in one transaction.
pub fn rotate(conn: &mut PgConnection, cipher: &NotesCipher) -> anyhow::Result<Rotated> {
    conn.transaction(|conn| {
        let skipped = already_current(conn, cipher.current_key_id())?;
        Ok(Rotated {
            legacy_sealed: fields::seal_legacy(conn, cipher)?,
            clinical_texts: fields::rotate(conn, cipher)?,
            disclosures: rotate_disclosures(conn, cipher)?,
            group_notes: rotate_notes(conn, cipher, Kind::Group)?,
            member_notes: rotate_notes(conn, cipher, Kind::Member)?,
            addenda: rotate_addenda(conn, cipher)?,
            already_current: skipped as usize,
        })
    })
}

/// The CLI entry point: needs `DATABASE_URL`, `GROUPWORK_NOTES_KEY` (the new key) and
/// `GROUPWORK_NOTES_KEY_PREVIOUS` (the key the notes are under now), nothing else.
pub fn run(env: &impl Env) -> anyhow::Result<()> {
    let url = Settings::database_url(env)?;
    let (current, previous) = keys_from_env(env)?;
    let Some(previous) = previous else {
        anyhow::bail!(
            "GROUPWORK_NOTES_KEY_PREVIOUS is required: the key the notes are encrypted with now \
             (GROUPWORK_NOTES_KEY is the new one)"
        );
    };
    if previous == current {
        anyhow::bail!("GROUPWORK_NOTES_KEY_PREVIOUS is the same key as GROUPWORK_NOTES_KEY");
    }
    crate::db::migrate(&url)?;
    let cipher = NotesCipher::new(&current, Some(&previous));
    let mut conn = PgConnection::establish(&url)?;
    let r = rotate(&mut conn, &cipher)?;
    println!(
        "re-encrypted {} group notes, {} member notes and {} addenda under key {}; {} were already under it",
        r.group_notes,
        r.member_notes,
        r.addenda,
        cipher.current_key_id(),
        r.already_current
    );
    println!(
        "re-encrypted {} disclosed documents under key {}",
        r.disclosures,
        cipher.current_key_id()
    );
    println!(
        "re-encrypted {} screening assessments and membership reasons and notes under key {}; \
         sealed {} written before encryption",
        r.clinical_texts,
        cipher.current_key_id(),
        r.legacy_sealed
    );
    Ok(())
}
