//! Audit events are the last thing a transaction writes.
//!
//! Appending an event takes the chain's lock (one writer at a time, so that each event links to
//! its true predecessor). Taken at a transaction's first audit call, that lock would sit in the
//! middle of the transaction's other row locks, and two transactions taking the same rows in
//! the two orders around it deadlock. So inside [`transaction`] the events a handler records
//! are kept in a per-thread buffer and appended together just before the commit: the chain
//! lock is always the last lock a transaction takes, and it is held only for the appends and
//! the commit.
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
            for e in events {
                e.ctx.append(
                    conn,
                    &e.action,
                    &e.resource_type,
                    e.resource_id,
                    e.outcome,
                    &e.details,
                )?;
            }
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
