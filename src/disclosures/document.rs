//! `GET /disclosures/{id}/document`: the document as it was released, byte for byte.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde_json::json;
use uuid::Uuid;

use super::model::find;

/// A PDF document, as released (binary); documents the response body only.
pub struct PdfDocument;

impl utoipa::PartialSchema for PdfDocument {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("A PDF document (application/pdf)"))
            .into()
    }
}

impl utoipa::ToSchema for PdfDocument {}
use crate::auth::policy::act;
use crate::auth::Staff;
use crate::consents::model::ensure_care_team;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::notes::failure::{audited, Attempt, Failure};
use crate::state::AppState;

/// The PDF released by a disclosure, served again (supervisors, intake, therapists of the
/// client's care team). Reading it is audited (`disclosure.document_read`) and is not a new
/// disclosure. A stored document that does not decrypt, or whose digest differs from the one
/// recorded, answers 409 `note_undecryptable`.
#[utoipa::path(tag = "disclosures",
    responses((status = 200, content_type = "application/pdf", body = PdfDocument,
               description = "The PDF as released; its SHA-256 is the disclosure's `document_sha256`"),
              (status = 403), (status = 404), (status = 409)))]
#[get("/disclosures/{id}/document")]
pub async fn disclosure_document(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let reader = state.notes.reader(&staff.permit::<act::ReadDisclosures>()?);
    let disclosure_id = id.into_inner();
    let pdf = state
        .db
        .run(move |conn| {
            let audit = staff.audit();
            let attempt = Attempt {
                action: "disclosure.document_read",
                resource_type: "disclosure",
                resource_id: Some(disclosure_id),
                details: json!({}),
            };
            audited(conn, &audit, attempt, |conn| {
                let row = find(conn, disclosure_id)?.ok_or(AppError::NotFound)?;
                ensure_care_team(conn, &staff, row.client_id)?;
                let pdf = row.document(&reader).map_err(|e| {
                    tracing::error!(
                        %disclosure_id,
                        error = %e,
                        "a disclosed document cannot be decrypted"
                    );
                    Failure::App(AppError::conflict(
                        ErrorCode::NoteUndecryptable,
                        "The document cannot be decrypted: its stored ciphertext does not \
                         authenticate under a configured key. The failure is recorded.",
                    ))
                })?;
                audit.allowed(
                    conn,
                    "disclosure.document_read",
                    "disclosure",
                    Some(disclosure_id),
                    json!({"client_id": row.client_id,
                           "document_sha256": hex::encode(&row.document_sha256)}),
                )?;
                Ok(pdf)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"disclosure-{disclosure_id}.pdf\""),
        ))
        .body(pdf))
}
