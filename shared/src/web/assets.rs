//! The vendored and hand-written static files, compiled into the binary. htmx is served under its
//! versioned name and cached for a year; our own files revalidate with an ETag (a hash of their
//! bytes, computed at compile time), so a deploy is picked up at once.

use super::WebState;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The vendored htmx release, 2.0.11 (npm `htmx.org`, `dist/htmx.min.js`), under its versioned
/// name; `static/htmx.LICENSE` is its licence (Zero-Clause BSD). htmx 4 renamed its events: the
/// handlers in `app.js` are htmx 2's.
pub const HTMX_PATH: &str = "/static/htmx-2.0.11.min.js";

struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    /// Whether the path names the version, so it may be cached for good.
    immutable: bool,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: HTMX_PATH,
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("static/htmx-2.0.11.min.js"),
        immutable: true,
    },
    Asset {
        path: "/static/htmx.LICENSE",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("static/htmx.LICENSE"),
        immutable: false,
    },
    Asset {
        path: "/static/app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("static/app.css"),
        immutable: false,
    },
    Asset {
        path: "/static/app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("static/app.js"),
        immutable: false,
    },
    Asset {
        path: "/static/auth-dev.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("static/auth-dev.js"),
        immutable: false,
    },
    Asset {
        path: "/static/auth-cognito.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("static/auth-cognito.js"),
        immutable: false,
    },
];

/// FNV-1a, 64 bits: enough to tell two versions of a file apart, and computable in a const.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

fn etag(asset: &Asset) -> String {
    format!("\"{:016x}\"", fnv1a(asset.bytes))
}

/// `?v=` for a link to one of our own files, so a changed file is fetched anew.
pub fn versioned(path: &str) -> String {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(asset) => format!("{path}?v={:08x}", fnv1a(asset.bytes) >> 32),
        None => path.to_owned(),
    }
}

pub fn routes() -> Router<WebState> {
    ASSETS
        .iter()
        .fold(Router::new(), |router, asset| router.route(asset.path, get(move |h: HeaderMap| serve(asset, h))))
}

async fn serve(asset: &'static Asset, headers: HeaderMap) -> Response {
    let tag = etag(asset);
    let cache = if asset.immutable { "public, max-age=31536000, immutable" } else { "public, no-cache" };
    let mut response = if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(tag.as_str()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.bytes).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, value);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
