//! Sessions generated automatically (SPEC §2 v2): when a group starts, and then kept
//! `GROUPWORK_SCHEDULE_WEEKS` weeks ahead by a periodic task inside `serve` (no external cron).
//!
//! The horizon of a group is the last day of the next `weeks` weeks in its own time zone
//! (today + 7 × weeks − 1 days), so a weekly group always has exactly `weeks` sessions from
//! today on. Automatic generation never creates sessions dated before today.
//!
//! Several instances may sweep at once: each group is extended in its own transaction under
//! its row lock (`FOR UPDATE SKIP LOCKED`: a group another instance or a request is extending
//! right now is left to it, and caught up on the next tick), and the generator reads the
//! group's last session only once it holds the lock, so a second pass creates nothing. The
//! unique keys on (group, sequence) and (group, scheduled_at), with `ON CONFLICT DO NOTHING`,
//! keep a duplicate impossible even so.

use std::time::Duration as StdDuration;

use actix_web::web;
use chrono::{Days, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::model::{generate_between, SessionRow};
use crate::audit::AuditCtx;
use crate::db::Db;
use crate::domain::group::GroupStatus;
use crate::error::AppResult;
use crate::groups::GroupRow;
use crate::schema::groups;
use crate::state::AppState;

/// How often `serve` extends the schedules.
pub const SWEEP_EVERY: StdDuration = StdDuration::from_secs(3600);

/// Today in the group's zone, and the last day `weeks` weeks ahead of it.
pub fn horizon(group: &GroupRow, weeks: u32) -> (NaiveDate, NaiveDate) {
    let today = Utc::now().with_timezone(&group.tz()).date_naive();
    let through = today
        .checked_add_days(Days::new(7 * u64::from(weeks)))
        .and_then(|d| d.pred_opt())
        .unwrap_or(today);
    (today, through)
}

/// The audit context of the schedule keeper (no actor: the service itself).
pub fn system_audit() -> AuditCtx {
    AuditCtx {
        actor_id: None,
        actor_role: None,
        request_id: format!("schedule-{}", Uuid::new_v4()),
        ip: None,
    }
}

/// Extends one group's schedule to its horizon. The caller holds the group's row lock (an
/// active group). Audits what was created, if anything, as `session.generate`.
pub fn keep_ahead(
    conn: &mut PgConnection,
    audit: &AuditCtx,
    group: &GroupRow,
    weeks: u32,
) -> AppResult<Vec<SessionRow>> {
    let (today, through) = horizon(group, weeks);
    let created = generate_between(conn, group, Some(today), through)?;
    if !created.is_empty() {
        audit.allowed(
            conn,
            "session.generate",
            "group",
            Some(group.id),
            json!({"through": through, "created": created.len(), "automatic": true}),
        )?;
    }
    Ok(created)
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Sessions created.
    pub created: usize,
    /// Groups left alone because another instance (or a request) held their row lock, or
    /// that stopped being active since the pass began.
    pub skipped: usize,
    /// Groups whose transaction failed (logged; retried on the next tick).
    pub failed: usize,
}

/// One pass over every active group; answers how many sessions were created. Each group is
/// its own transaction, so one failing group does not hold back the others.
pub fn sweep(conn: &mut PgConnection, weeks: u32) -> AppResult<usize> {
    Ok(sweep_counted(conn, weeks)?.created)
}

/// [`sweep`], telling also how many groups were skipped (locked elsewhere) or failed.
pub fn sweep_counted(conn: &mut PgConnection, weeks: u32) -> AppResult<Swept> {
    let active: Vec<Uuid> = groups::table
        .filter(groups::status.eq(GroupStatus::Active))
        .select(groups::id)
        .order(groups::id)
        .load(conn)?;
    let audit = system_audit();
    let mut swept = Swept::default();
    for id in active {
        let done = conn.transaction(|conn| -> AppResult<Option<usize>> {
            let group: Option<GroupRow> = groups::table
                .find(id)
                .filter(groups::status.eq(GroupStatus::Active))
                .select(GroupRow::as_select())
                .for_update()
                .skip_locked()
                .first(conn)
                .optional()?;
            match group {
                Some(group) => Ok(Some(keep_ahead(conn, &audit, &group, weeks)?.len())),
                None => Ok(None),
            }
        });
        match done {
            Ok(Some(n)) => swept.created += n,
            Ok(None) => swept.skipped += 1,
            Err(e) => {
                swept.failed += 1;
                tracing::error!(group_id = %id, error = %e, "could not extend a group's schedule")
            }
        }
    }
    Ok(swept)
}

/// Runs [`sweep_counted`] on the blocking pool.
pub async fn sweep_now(db: &Db, weeks: u32) -> AppResult<Swept> {
    db.run(move |conn| sweep_counted(conn, weeks)).await
}

/// Starts the periodic task inside the running server: a sweep at once, then every `every`.
/// A failed sweep is logged and retried on the next tick.
pub fn spawn(state: web::Data<AppState>, every: StdDuration) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep_now(&state.db, state.settings.schedule_weeks).await {
                Ok(Swept { created: 0, .. }) => {}
                Ok(s) => tracing::info!(created = s.created, "sessions generated ahead"),
                Err(e) => tracing::error!(error = %e, "the schedule sweep failed"),
            }
        }
    });
}
