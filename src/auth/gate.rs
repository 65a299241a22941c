//! The gate in front of every `/api/v1` operation: it looks the operation's policy up in the
//! route registry and, for one that requires a role, authenticates the caller and asks the
//! role table, before the handler runs and before any of its path, query or body is read. A
//! handler therefore cannot forget a role check, and an intake coordinator posting a malformed
//! note hears 403, never a 422 that confirms what the body should look like.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError};

use crate::auth::extractor::authenticate;
use crate::auth::policy::{allows, Policy};
use crate::error::AppError;
use crate::routes::policy_of;

/// The policy this request's operation declares (`None`: not an operation of the registry,
/// e.g. an unknown path, which answers 404 as before).
fn policy(req: &ServiceRequest) -> Option<Policy> {
    let pattern = req.match_pattern()?;
    policy_of(req.method().as_str(), &pattern)
}

/// Which action the gate granted, for the 403 audit and the tracing span.
#[derive(Debug, Clone, Copy)]
pub struct Granted(pub Policy);

pub async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(policy) = policy(&req) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    req.extensions_mut().insert(Granted(policy));
    if let Policy::Requires(action) = policy {
        let refused = match authenticate(req.request()).await {
            Err(e) => Some(e),
            Ok(staff) if !allows(staff.role, action) => Some(AppError::Forbidden),
            Ok(_) => None,
        };
        if let Some(error) = refused {
            let response = error.error_response();
            return Ok(req.into_response(response));
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
