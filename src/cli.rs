//! The command-line entry points other than `serve` (SPEC §6).

use std::io::BufRead;

use diesel::prelude::*;
use serde_json::json;

use crate::audit::AuditCtx;
use crate::auth::password::{check_strength, hash_password_blocking};
use crate::auth::Role;
use crate::domain::email::parse_email;
use crate::domain::text::required_line;
use crate::error::{AppError, ErrorCode};
use crate::users::model::{self, NewUser};

/// The audit context of a command run by an operator on the server.
pub fn cli_audit() -> AuditCtx {
    AuditCtx {
        actor_id: None,
        actor_role: None,
        request_id: format!("cli-{}", uuid::Uuid::new_v4()),
        ip: None,
    }
}

fn describe(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation { detail, .. } => anyhow::anyhow!("{detail}"),
        AppError::Conflict { detail, .. } => anyhow::anyhow!("{detail}"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// `groupwork create-user --email E --name N --role R`, password on standard input.
pub fn create_user(database_url: &str, email: &str, name: &str, role: &str) -> anyhow::Result<()> {
    let role: Role = role.parse().map_err(|_| {
        anyhow::anyhow!("--role must be one of admin, supervisor, therapist, intake")
    })?;
    let email = parse_email(email).map_err(|m| anyhow::anyhow!("--email {m}"))?;
    let name = required_line(name, 200).map_err(|m| anyhow::anyhow!("--name {m}"))?;
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    check_strength("password", &password, &[&email, &name]).map_err(describe)?;
    let hash = hash_password_blocking(&password)?;
    let mut conn = PgConnection::establish(database_url)?;
    let user = conn
        .transaction(|conn| {
            if model::email_taken(conn, &email, None)? {
                return Err(AppError::conflict(
                    ErrorCode::EmailTaken,
                    "a user with this email already exists",
                ));
            }
            let row = model::insert(
                conn,
                NewUser {
                    email: &email,
                    display_name: &name,
                    role,
                    password_hash: &hash,
                    // Console access is the bootstrap: no approval needed (SPEC §1).
                    created_by_admin: None,
                },
            )?;
            cli_audit().allowed(
                conn,
                "user.create",
                "user",
                Some(row.id),
                json!({"role": row.role, "approval": row.approval, "via": "cli"}),
            )?;
            Ok(row)
        })
        .map_err(describe)?;
    println!("created {} {} ({})", user.role, user.email, user.id);
    Ok(())
}
