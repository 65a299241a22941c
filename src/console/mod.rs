//! The staff console (SPEC §9): static files from `web/`, embedded in the binary at build time,
//! served at `/` (the page) and `/console/…` (modules, styles). No build step: the browser loads
//! native ES modules. Every console response carries a strict Content-Security-Policy (same
//! origin only, no inline script or style, never framed) and an ETag (`no-cache`: the browser
//! revalidates and gets a 304 while the binary is unchanged).

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

/// The policy of every console response.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        /// Every file of `web/`, by its path there (a test checks that none is missing).
        pub const FILES: &[(&str, &[u8])] = &[
            $(($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $path))),)*
        ];
    };
}

assets!(
    "app.css",
    "docs.html",
    "favicon.svg",
    "index.html",
    "js/admin.js",
    "js/api.js",
    "js/app.js",
    "js/chart.js",
    "js/clients.js",
    "js/common.js",
    "js/consents.js",
    "js/cosign.js",
    "js/docs.js",
    "js/dom.js",
    "js/emergency.js",
    "js/format.js",
    "js/forms.js",
    "js/groups.js",
    "js/home.js",
    "js/login.js",
    "js/screenings.js",
    "js/session.js",
);

struct Asset {
    body: bytes::Bytes,
    content_type: &'static str,
    etag: String,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn assets() -> &'static HashMap<&'static str, Asset> {
    static ASSETS: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        FILES
            .iter()
            .map(|(path, body)| {
                let digest = Sha256::digest(body);
                let asset = Asset {
                    body: bytes::Bytes::from_static(body),
                    content_type: content_type(path),
                    etag: format!("\"{}\"", hex::encode(&digest[..12])),
                };
                (*path, asset)
            })
            .collect()
    })
}

/// Headers every console response carries, the 404 included.
fn secure(builder: &mut actix_web::HttpResponseBuilder) {
    builder
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
}

/// For front-end work: `GROUPWORK_CONSOLE_DIR=web` serves the files from that folder instead of
/// the embedded copies, so that an edit shows on reload without a rebuild.
fn from_disk(path: &str) -> Option<Asset> {
    static DIR: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();
    let dir = DIR
        .get_or_init(|| std::env::var_os("GROUPWORK_CONSOLE_DIR").map(Into::into))
        .as_ref()?;
    if path
        .split('/')
        .any(|part| part.is_empty() || part.starts_with('.'))
    {
        return None;
    }
    let body = bytes::Bytes::from(std::fs::read(dir.join(path)).ok()?);
    let digest = Sha256::digest(&body);
    Some(Asset {
        body,
        content_type: content_type(path),
        etag: format!("\"{}\"", hex::encode(&digest[..12])),
    })
}

fn serve(req: &HttpRequest, path: &str) -> HttpResponse {
    let disk = from_disk(path);
    let Some(asset) = disk.as_ref().or_else(|| assets().get(path)) else {
        let mut b = HttpResponse::NotFound();
        secure(&mut b);
        return b
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == asset.etag || t.trim() == "*")
        });
    let mut b = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    secure(&mut b);
    b.insert_header((header::ETAG, asset.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if fresh {
        b.finish()
    } else {
        b.content_type(asset.content_type).body(asset.body.clone())
    }
}

async fn index(req: HttpRequest) -> HttpResponse {
    serve(&req, "index.html")
}

async fn file(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    serve(&req, &path)
}

/// `GET /api/v1/docs`: the API reference, rendered offline from `/api/v1/openapi.json`.
pub async fn api_reference(req: HttpRequest) -> HttpResponse {
    serve(&req, "docs.html")
}

/// `GET /` and `GET /console/{file}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/console/{file:.*}", web::get().to(file));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(dir: &std::path::Path, out: &mut Vec<String>, root: &std::path::Path) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out, root);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }

    #[test]
    fn every_file_of_web_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut on_disk = Vec::new();
        walk(&root, &mut on_disk, &root);
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        embedded.sort();
        assert_eq!(
            on_disk, embedded,
            "list every file of web/ in src/console/mod.rs"
        );
    }

    #[test]
    fn known_types() {
        assert_eq!(content_type("js/app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("x.bin"), "application/octet-stream");
    }
}
