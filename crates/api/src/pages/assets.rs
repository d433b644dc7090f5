//! The UI's own stylesheet and script, compiled into the binary and served under a name that carries a hash of
//! their content (`/assets/app.3f2a….css`), so browsers may keep them for a year: a new build changes the name.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};

const STYLESHEET: &str = include_str!("../../assets/app.css");
const SCRIPT: &str = include_str!("../../assets/app.js");

/// One embedded file.
struct Asset {
    /// `app.<hash>.css`.
    name: String,
    content_type: &'static str,
    body: &'static str,
}

impl Asset {
    fn new(stem: &str, extension: &str, content_type: &'static str, body: &'static str) -> Asset {
        let digest = Sha256::digest(body.as_bytes());
        let hash: String = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
        Asset { name: format!("{stem}.{hash}.{extension}"), content_type, body }
    }

    fn url(&self) -> String {
        format!("/assets/{}", self.name)
    }
}

static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        Asset::new("app", "css", "text/css; charset=utf-8", STYLESHEET),
        Asset::new("app", "js", "text/javascript; charset=utf-8", SCRIPT),
    ]
});

static URLS: LazyLock<(String, String)> = LazyLock::new(|| (ASSETS[0].url(), ASSETS[1].url()));

/// The stylesheet's URL.
pub(crate) fn stylesheet_url() -> &'static str {
    &URLS.0
}

/// The script's URL.
pub(crate) fn script_url() -> &'static str {
    &URLS.1
}

/// `GET /assets/{file}`: an embedded file under its current name; any other name is 404 (which the error
/// handlers turn into the 404 page).
pub(super) async fn serve(file: web::Path<String>) -> HttpResponse {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == *file) else {
        return HttpResponse::NotFound().finish();
    };
    let mut response = HttpResponse::Ok().body(asset.body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
