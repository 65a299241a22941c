//! HTTP plumbing shared by every resource: JSON and query extraction with uniform errors,
//! request ids and request logs, ETags, pagination.

pub mod client_address;
pub mod csv;
pub mod etag;
pub mod extract;
pub mod middleware;
pub mod pagination;

pub use extract::{Json, Query};
pub use middleware::RequestId;
