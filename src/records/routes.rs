//! `GET /clients/{id}/record` (supervisor, therapist in scope).

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{scope, Action, Staff};
use crate::clients::model::{self as clients_model, Client};
use crate::domain::redact::Redactor;
use crate::error::{AppError, AppResult};
use crate::notes::model::{self as notes, Target};
use crate::schema::{attendance, clients, groups, member_notes, memberships, sessions};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordMembership {
    pub id: Uuid,
    pub group_id: Uuid,
    pub group_name: String,
    pub status: String,
    pub joined_on: Option<NaiveDate>,
    pub exit_reason: Option<String>,
    pub exited_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordAttendance {
    pub membership_id: Uuid,
    pub session_id: Uuid,
    pub session_sequence: i32,
    pub scheduled_at: DateTime<Utc>,
    pub status: String,
    pub minutes_late: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordAddendum {
    pub created_at: DateTime<Utc>,
    pub author_id: Uuid,
    pub content: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordNote {
    pub id: Uuid,
    pub membership_id: Uuid,
    pub session_id: Uuid,
    pub status: String,
    pub author_id: Uuid,
    pub signed_at: Option<DateTime<Utc>>,
    pub cosigned_at: Option<DateTime<Utc>>,
    /// participation, progress, risk_flags, content (fellow members' names redacted).
    #[schema(value_type = Object)]
    pub fields: Value,
    pub addenda: Vec<RecordAddendum>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientRecord {
    pub client: Client,
    pub memberships: Vec<RecordMembership>,
    pub attendance: Vec<RecordAttendance>,
    pub member_notes: Vec<RecordNote>,
}

/// id, group id, group name, status, joined_on, exit_reason, exited_at
type MembershipLine = (
    Uuid,
    Uuid,
    String,
    String,
    Option<NaiveDate>,
    Option<String>,
    Option<DateTime<Utc>>,
);

/// Names (first, last, preferred) of everyone who shared a group with the client.
fn fellow_names(
    conn: &mut PgConnection,
    client_id: Uuid,
    group_ids: &[Uuid],
) -> QueryResult<Vec<String>> {
    let rows: Vec<(String, String, Option<String>)> = memberships::table
        .inner_join(clients::table)
        .filter(memberships::group_id.eq_any(group_ids))
        .filter(memberships::client_id.ne(client_id))
        .select((
            clients::first_name,
            clients::last_name,
            clients::preferred_name,
        ))
        .distinct()
        .load(conn)?;
    Ok(rows
        .into_iter()
        .flat_map(|(f, l, p)| [Some(f), Some(l), p])
        .flatten()
        .collect())
}

fn redact_fields(mut fields: Value, r: &Redactor) -> Value {
    for key in ["progress", "content"] {
        if let Some(Value::String(s)) = fields.get(key) {
            let redacted = r.redact(s);
            fields[key] = Value::String(redacted);
        }
    }
    fields
}

/// The client's record for export. Each read is audited; decryption failures answer 409
/// `note_undecryptable`.
#[utoipa::path(tag = "clients", responses((status = 200, body = ClientRecord), (status = 403), (status = 404), (status = 409)))]
#[get("/clients/{id}/record")]
pub async fn client_record(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let client_id = id.into_inner();
    if !staff.can(Action::ReadClientRecord) {
        let audit = staff.audit();
        state
            .db
            .tx(move |conn| {
                audit.denied(
                    conn,
                    "client_record.read",
                    "client",
                    Some(client_id),
                    json!({"reason": "role"}),
                )
            })
            .await?;
        return Err(AppError::Forbidden);
    }
    let st = state.clone();
    let result = state
        .db
        .tx(move |conn| {
            let audit = staff.audit();
            if let Err(e) = scope::ensure_client(conn, &staff, client_id) {
                if staff.is_scoped() {
                    audit.denied(
                        conn,
                        "client_record.read",
                        "client",
                        Some(client_id),
                        json!({"reason": "out_of_scope"}),
                    )?;
                    return Ok(Err(e));
                }
                return Err(e);
            }
            let client = clients_model::find(conn, client_id)?.ok_or(AppError::NotFound)?;
            let ms: Vec<MembershipLine> = memberships::table
                .inner_join(groups::table)
                .filter(memberships::client_id.eq(client_id))
                .order(memberships::created_at.asc())
                .select((
                    memberships::id,
                    memberships::group_id,
                    groups::name,
                    memberships::status,
                    memberships::joined_on,
                    memberships::exit_reason,
                    memberships::exited_at,
                ))
                .load(conn)?;
            let membership_ids: Vec<Uuid> = ms.iter().map(|m| m.0).collect();
            let group_ids: Vec<Uuid> = ms.iter().map(|m| m.1).collect();
            let attendance: Vec<RecordAttendance> = attendance::table
                .inner_join(sessions::table)
                .filter(attendance::membership_id.eq_any(&membership_ids))
                .order(sessions::scheduled_at.asc())
                .select((
                    attendance::membership_id,
                    sessions::id,
                    sessions::sequence,
                    sessions::scheduled_at,
                    attendance::status,
                    attendance::minutes_late,
                ))
                .load::<(Uuid, Uuid, i32, DateTime<Utc>, String, Option<i32>)>(conn)?
                .into_iter()
                .map(
                    |(
                        membership_id,
                        session_id,
                        session_sequence,
                        scheduled_at,
                        status,
                        minutes_late,
                    )| RecordAttendance {
                        membership_id,
                        session_id,
                        session_sequence,
                        scheduled_at,
                        status,
                        minutes_late,
                    },
                )
                .collect();
            let redactor = Redactor::new(
                fellow_names(conn, client_id, &group_ids)?
                    .iter()
                    .map(String::as_str),
            );
            let note_keys: Vec<(Uuid, Uuid)> = member_notes::table
                .inner_join(sessions::table)
                .filter(member_notes::membership_id.eq_any(&membership_ids))
                .filter(member_notes::status.ne("draft"))
                .order(sessions::scheduled_at.asc())
                .select((member_notes::session_id, member_notes::membership_id))
                .load(conn)?;
            let mut member_notes = Vec::with_capacity(note_keys.len());
            for (session_id, membership_id) in note_keys {
                let row = notes::find(
                    conn,
                    Target::Member {
                        session_id,
                        membership_id,
                    },
                    false,
                )?
                .ok_or(AppError::NotFound)?;
                let note_id = row.id;
                match notes::view(conn, &st.notes, row)? {
                    Ok(n) => member_notes.push(RecordNote {
                        id: n.id,
                        membership_id,
                        session_id,
                        status: n.status.as_str().to_string(),
                        author_id: n.author_id,
                        signed_at: n.signed_at,
                        cosigned_at: n.cosigned_at,
                        fields: redact_fields(n.fields, &redactor),
                        addenda: n
                            .addenda
                            .into_iter()
                            .map(|a| RecordAddendum {
                                created_at: a.created_at,
                                author_id: a.author_id,
                                content: redactor.redact(&a.content),
                            })
                            .collect(),
                    }),
                    Err(e) => {
                        audit.denied(
                            conn,
                            "note.decrypt_failed",
                            "member_note",
                            Some(note_id),
                            json!({"error": e.to_string()}),
                        )?;
                        return Ok(Err(AppError::conflict(
                            "note_undecryptable",
                            "A note in this record cannot be decrypted.",
                        )));
                    }
                }
            }
            audit.allowed(
                conn,
                "client_record.read",
                "client",
                Some(client_id),
                json!({"member_notes": member_notes.len()}),
            )?;
            Ok(Ok(ClientRecord {
                client: client.into(),
                memberships: ms
                    .into_iter()
                    .map(
                        |(id, group_id, group_name, status, joined_on, exit_reason, exited_at)| {
                            RecordMembership {
                                id,
                                group_id,
                                group_name,
                                status,
                                joined_on,
                                exit_reason,
                                exited_at,
                            }
                        },
                    )
                    .collect(),
                attendance,
                member_notes,
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result?))
}
