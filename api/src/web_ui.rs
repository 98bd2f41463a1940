//! Serves the dashboard (the built SPA in `web_dir`) at `/`, with `index.html` for every path the
//! SPA routes itself. When the SPA is not built, a short page says how to build it.
use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::dev::{fn_service, ServiceRequest, ServiceResponse};
use actix_web::{web, HttpResponse};

const NOT_BUILT: &str = "<!doctype html><html><head><meta charset=utf-8><title>Callbroker</title></head>\
<body><h1>Callbroker</h1><p>The dashboard is not built. Run <code>make run</code> (or \
<code>scripts/build-web.sh</code>). The API is at <a href=\"/api/docs/\">/api/docs/</a>.</p></body></html>";

/// Registers the SPA at `/`; must come after every other service.
pub fn configure(cfg: &mut web::ServiceConfig, web_dir: &Path) {
    let index: PathBuf = web_dir.join("index.html");
    let fallback = fn_service(move |req: ServiceRequest| {
        let index = index.clone();
        async move {
            let (req, _) = req.into_parts();
            if req.path().starts_with("/api/") {
                let body = crate::error::AppError::NotFound("route").body();
                return Ok(ServiceResponse::new(req, HttpResponse::NotFound().json(body)));
            }
            let res = match NamedFile::open_async(&index).await {
                Ok(file) => file.into_response(&req),
                Err(_) => HttpResponse::Ok().content_type("text/html; charset=utf-8").body(NOT_BUILT),
            };
            Ok(ServiceResponse::new(req, res))
        }
    });
    if web_dir.is_dir() {
        cfg.service(Files::new("/", web_dir).index_file("index.html").default_handler(fallback));
    } else {
        cfg.default_service(fallback);
    }
}
