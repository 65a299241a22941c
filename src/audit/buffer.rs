//! Audit events are the last thing a transaction writes.
//!
//! Inside [`transaction`] the events a handler records are kept in a per-thread buffer and
//! appended together, in one statement, just before the commit. An event's position in the
//! chain (`seq`) is thus taken after every row lock of its transaction: of two transactions
//! that touch the same rows, the one that commits first holds the earlier position, so the
//! chain's order is the order in which such changes happened. (Appending no longer takes a
//! lock of its own — the sealer links the chain afterwards, see `audit::seal` — so this order
//! is all the buffer still provides, besides one round trip for all of a request's events.)
//!
//! The buffer is per thread because a transaction's closure runs start to finish on one
//! blocking-pool thread; frames nest with savepoints, and a rolled-back frame's events are
//! dropped with the changes they described.

use std::cell::RefCell;

use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::{AuditCtx, Outcome};
use crate::error::AppError;

pub(super) struct Pending {
    pub ctx: AuditCtx,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub outcome: Outcome,
    pub details: Value,
}

thread_local! {
    static FRAMES: RefCell<Vec<Vec<Pending>>> = const { RefCell::new(Vec::new()) };
}

/// Keeps `event` for the innermost open frame; gives it back when no frame is open.
pub(super) fn defer(event: Pending) -> Option<Pending> {
    FRAMES.with(|frames| match frames.borrow_mut().last_mut() {
        Some(frame) => {
            frame.push(event);
            None
        }
        None => Some(event),
    })
}

/// An open frame; closing (or dropping) it removes it from the stack.
struct Frame;

impl Frame {
    fn open() -> Frame {
        FRAMES.with(|frames| frames.borrow_mut().push(Vec::new()));
        Frame
    }

    /// The frame's events, and whether it is the outermost one.
    fn drain(&self) -> (Vec<Pending>, bool) {
        FRAMES.with(|frames| {
            let mut frames = frames.borrow_mut();
            let outermost = frames.len() == 1;
            let events = frames.last_mut().map(std::mem::take).unwrap_or_default();
            (events, outermost)
        })
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        FRAMES.with(|frames| {
            frames.borrow_mut().pop();
        });
    }
}

/// Runs `f` in a transaction (a savepoint when one is open) whose audit events are appended
/// after everything else it wrote, just before it commits. When `f` fails, its events go with
/// its changes.
pub fn transaction<T, E, F>(conn: &mut PgConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E>,
    E: From<diesel::result::Error> + From<AppError>,
{
    let frame = Frame::open();
    conn.transaction(|conn| {
        let out = f(conn)?;
        let (events, outermost) = frame.drain();
        if outermost {
            super::append(conn, &events)?;
        } else {
            // A savepoint: its events join the enclosing frame, to be appended at its end.
            FRAMES.with(|frames| {
                let mut frames = frames.borrow_mut();
                let n = frames.len();
                if n >= 2 {
                    frames[n - 2].extend(events);
                }
            });
        }
        Ok(out)
    })
}

/// Runs `f`, which only reads, without a transaction (each of its statements commits on its
/// own), then appends the audit events it recorded in one statement, which commits them
/// together. For the audited reads of the hot paths (a roster, a client's demographics): a
/// transaction would add a `BEGIN` and a `COMMIT` round trip and no consistency, since at READ
/// COMMITTED each statement reads its own snapshot anyway. When `f` fails nothing is appended,
/// as when a transaction rolls back. `f` must not write: its writes would not wait for its
/// events (use [`transaction`] for anything that changes data).
pub fn read_then_append<T, F>(conn: &mut PgConnection, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError>,
{
    let frame = Frame::open();
    let out = f(conn)?;
    let (events, _) = frame.drain();
    super::append(conn, &events)?;
    Ok(out)
}
