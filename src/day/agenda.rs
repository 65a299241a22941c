//! `GET /me/agenda?from=&to=` (SPEC §7): the caller's sessions (groups they lead or co-lead,
//! with their documentation state for clinical roles) and screenings (those they interview;
//! for intake, every scheduled screening) in time order. A screening item carries the
//! client's name, never the assessment.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Action, Staff};
use crate::domain::screening::ScreeningStatus;
use crate::error::{AppError, AppResult};
use crate::http::Query;
use crate::screenings::model::{Screening, ScreeningRow};
use crate::sessions::documentation::{self, SessionItem, SessionSet};
use crate::sessions::list::check_window;
use crate::state::AppState;

/// The longest window an agenda covers, in days (both ends included).
pub const MAX_DAYS: i64 = 62;

/// More sessions than any window of 62 days can hold for one person's groups.
const MAX_SESSIONS: i64 = 2_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgendaQuery {
    /// First date (default: today in UTC). Sessions are placed on their group's local
    /// calendar, screenings on the UTC calendar.
    pub from: Option<NaiveDate>,
    /// Last date, inclusive (default: `from`); at most 62 days from `from`, both included.
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgendaKind {
    Session,
    Screening,
}

/// A screening as the agenda shows it: never its assessment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgendaScreening {
    #[serde(flatten)]
    pub screening: Screening,
    /// The client's first (and preferred) and last name.
    pub client_name: String,
}

/// One entry of the agenda: a session or a screening, at its start.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgendaItem {
    pub kind: AgendaKind,
    pub at: DateTime<Utc>,
    /// With `kind: session`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionItem>,
    /// With `kind: screening`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screening: Option<AgendaScreening>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Agenda {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<AgendaItem>,
}

/// The window asked for, with its defaults; 422 naming the field when it is reversed or
/// longer than [`MAX_DAYS`].
pub fn window(q: &AgendaQuery, today: NaiveDate) -> AppResult<(NaiveDate, NaiveDate)> {
    let from = q.from.unwrap_or(today);
    let to = q.to.unwrap_or(from);
    check_window(Some(from), Some(to))?;
    if (to - from).num_days() + 1 > MAX_DAYS {
        return Err(AppError::invalid(
            "to",
            "the agenda covers at most 62 days (from and to included)",
        ));
    }
    Ok((from, to))
}

fn client_name(first: String, last: String, preferred: Option<String>) -> String {
    match preferred {
        Some(p) if !p.is_empty() && p != first => format!("{first} \u{201c}{p}\u{201d} {last}"),
        _ => format!("{first} {last}"),
    }
}

/// The screenings of the agenda: the caller's interviews (any status but cancelled), or for
/// intake every scheduled screening, between the UTC midnights bounding the window.
fn screenings(
    conn: &mut PgConnection,
    staff: &Staff,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<AgendaScreening>> {
    use crate::schema::{clients, screenings};
    let start = from.and_time(NaiveTime::MIN).and_utc();
    let end = to
        .succ_opt()
        .ok_or_else(|| AppError::invalid("to", "is out of range"))?
        .and_time(NaiveTime::MIN)
        .and_utc();
    let mut q = screenings::table
        .inner_join(clients::table)
        .filter(screenings::scheduled_at.ge(start))
        .filter(screenings::scheduled_at.lt(end))
        .select((
            ScreeningRow::as_select(),
            clients::first_name,
            clients::last_name,
            clients::preferred_name,
        ))
        .into_boxed();
    q = if staff.can(Action::CoordinateIntake) {
        q.filter(screenings::status.eq(ScreeningStatus::Scheduled))
    } else {
        q.filter(screenings::interviewer_id.eq(staff.id))
            .filter(screenings::status.ne(ScreeningStatus::Cancelled))
    };
    let rows: Vec<(ScreeningRow, String, String, Option<String>)> = q
        .order((screenings::scheduled_at.asc(), screenings::id.asc()))
        .load(conn)?;
    rows.into_iter()
        .map(|(row, first, last, preferred)| {
            Ok(AgendaScreening {
                screening: row.view(None)?,
                client_name: client_name(first, last, preferred),
            })
        })
        .collect()
}

/// The caller's sessions and screenings between `from` and `to` (default today, UTC), in
/// time order; at most 62 days.
#[utoipa::path(tag = "day", params(AgendaQuery),
    responses((status = 200, body = Agenda), (status = 401), (status = 422)))]
#[get("/me/agenda")]
pub async fn agenda(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<AgendaQuery>,
) -> AppResult<HttpResponse> {
    let (from, to) = window(&q.into_inner(), Utc::now().date_naive())?;
    let clinical = staff.can(Action::ReadNotes);
    let set = SessionSet {
        me: staff.id,
        only_mine: true,
        from: Some(from),
        to: Some(to),
        due_hours: state.settings.notes_due_hours,
        ..SessionSet::default()
    };
    let audit = staff.audit();
    let items = state
        .db
        .tx(move |conn| {
            let sessions = documentation::page(conn, &set, None, None, MAX_SESSIONS, clinical)?;
            let screenings = screenings(conn, &staff, from, to)?;
            if !screenings.is_empty() {
                // Clients' names are client data: a bulk read, audited once (SPEC §2).
                crate::audit::bulk::list_read(
                    &audit,
                    conn,
                    "client.list",
                    "agenda",
                    None,
                    screenings.iter().map(|s| s.screening.client_id),
                )?;
            }
            let mut items: Vec<AgendaItem> = sessions
                .into_iter()
                .map(|s| AgendaItem {
                    kind: AgendaKind::Session,
                    at: s.session.scheduled_at,
                    session: Some(s),
                    screening: None,
                })
                .chain(screenings.into_iter().map(|s| AgendaItem {
                    kind: AgendaKind::Screening,
                    at: s.screening.scheduled_at,
                    session: None,
                    screening: Some(s),
                }))
                .collect();
            items.sort_by_key(|i| (i.at, i.kind == AgendaKind::Screening, item_id(i)));
            Ok(items)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Agenda { from, to, items }))
}

fn item_id(i: &AgendaItem) -> Uuid {
    match (&i.session, &i.screening) {
        (Some(s), _) => s.session.id,
        (_, Some(s)) => s.screening.id,
        _ => Uuid::nil(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn q(from: Option<&str>, to: Option<&str>) -> AgendaQuery {
        AgendaQuery {
            from: from.map(d),
            to: to.map(d),
        }
    }

    #[test]
    fn windows() {
        let today = d("2026-12-02");
        assert_eq!(window(&q(None, None), today).unwrap(), (today, today));
        assert_eq!(
            window(&q(Some("2026-12-01"), None), today).unwrap(),
            (d("2026-12-01"), d("2026-12-01"))
        );
        assert_eq!(
            window(&q(Some("2026-12-01"), Some("2027-01-31")), today).unwrap(),
            (d("2026-12-01"), d("2027-01-31")),
            "62 days, both ends included"
        );
        assert!(window(&q(Some("2026-12-01"), Some("2027-02-01")), today).is_err());
        assert!(window(&q(Some("2026-12-03"), Some("2026-12-02")), today).is_err());
        assert!(window(&q(None, Some("2026-12-01")), today).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(client_name("Ann".into(), "Lee".into(), None), "Ann Lee");
        assert_eq!(
            client_name("Robert".into(), "Lee".into(), Some("Bob".into())),
            "Robert \u{201c}Bob\u{201d} Lee"
        );
    }
}
