//! Serves the dashboard (the built SPA in `web_dir`) at `/`, with `index.html` for every path the
//! SPA routes itself. When the SPA is not built, a short page says how to build it.
//!
//! `scripts/build-web.sh` writes compressed copies beside the big files (`app.wasm.br`,
//! `app.wasm.gz`). A request for `app.wasm` that accepts one of those encodings gets the copy,
//! with `Content-Encoding` set and the original's content type: the wasm is compressed once, at
//! the best level, instead of on every request (or not at all).
use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::dev::{fn_service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, Encoding, Header};
use actix_web::{web, HttpRequest, HttpResponse};

const NOT_BUILT: &str = "<!doctype html><html><head><meta charset=utf-8><title>Callbroker</title></head>\
<body><h1>Callbroker</h1><p>The dashboard is not built. Run <code>make run</code> (or \
<code>scripts/build-web.sh</code>). The API is at <a href=\"/api/docs/\">/api/docs/</a>.</p></body></html>";

/// The compressed copies looked for, with their file suffix.
const VARIANTS: [(ContentEncoding, &str); 2] = [(ContentEncoding::Brotli, "br"), (ContentEncoding::Gzip, "gz")];

/// Registers the SPA at `/`; must come after every other service.
pub fn configure(cfg: &mut web::ServiceConfig, web_dir: &Path) {
    let index: PathBuf = web_dir.join("index.html");
    let fallback = fn_service(move |req: ServiceRequest| {
        let index = index.clone();
        async move {
            let (req, _) = req.into_parts();
            if let Some(allow) = crate::routes::allow::not_allowed(req.method(), req.path()) {
                let answer = actix_web::ResponseError::error_response(&crate::routes::AppError::MethodNotAllowed { allow });
                return Ok(ServiceResponse::new(req, answer));
            }
            if req.path().starts_with("/api/") {
                let body = crate::routes::AppError::NotFound("route").body();
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
        for (name, encodings) in precompressed(web_dir) {
            let file = web_dir.join(&name);
            cfg.service(
                web::resource(format!("/{name}")).route(web::get().to(move |req: HttpRequest| serve(req, file.clone(), encodings.clone()))),
            );
        }
        cfg.service(Files::new("/", web_dir).index_file("index.html").default_handler(fallback));
    } else {
        cfg.default_service(fallback);
    }
}

/// The files at the top of `web_dir` that have compressed copies, with the encodings they have.
fn precompressed(web_dir: &Path) -> Vec<(String, Vec<ContentEncoding>)> {
    let Ok(entries) = std::fs::read_dir(web_dir) else { return vec![] };
    let mut found: Vec<(String, Vec<ContentEncoding>)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| !VARIANTS.iter().any(|(_, suffix)| name.ends_with(&format!(".{suffix}"))))
        .filter_map(|name| {
            let encodings: Vec<ContentEncoding> = VARIANTS
                .iter()
                .filter(|(_, suffix)| web_dir.join(format!("{name}.{suffix}")).is_file())
                .map(|(encoding, _)| *encoding)
                .collect();
            (!encodings.is_empty()).then_some((name, encodings))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// The encoding to send: the client's most preferred among the copies on disk, else identity.
pub fn choose(req: &HttpRequest, available: &[ContentEncoding]) -> ContentEncoding {
    let Ok(accept) = AcceptEncoding::parse(req) else { return ContentEncoding::Identity };
    let supported: Vec<Encoding> = available.iter().map(|e| Encoding::Known(*e)).chain([Encoding::identity()]).collect();
    match accept.negotiate(supported.iter()) {
        Some(Encoding::Known(e)) => e,
        _ => ContentEncoding::Identity,
    }
}

fn suffix(encoding: ContentEncoding) -> Option<&'static str> {
    VARIANTS.iter().find(|(e, _)| *e == encoding).map(|(_, s)| *s)
}

async fn serve(req: HttpRequest, file: PathBuf, available: Vec<ContentEncoding>) -> actix_web::Result<HttpResponse> {
    let encoding = choose(&req, &available);
    let content_type = actix_files::file_extension_to_mime(file.extension().and_then(|e| e.to_str()).unwrap_or(""));
    let named = match suffix(encoding) {
        Some(suffix) => {
            let mut path = file.clone().into_os_string();
            path.push(format!(".{suffix}"));
            NamedFile::open_async(PathBuf::from(path)).await?.set_content_encoding(encoding)
        }
        None => NamedFile::open_async(&file).await?,
    };
    let mut res = named.set_content_type(content_type).disable_content_disposition().into_response(&req);
    res.headers_mut().insert(header::VARY, header::HeaderValue::from_static("accept-encoding"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn choose_for(accept: Option<&str>, available: &[ContentEncoding]) -> ContentEncoding {
        let mut req = TestRequest::default();
        if let Some(a) = accept {
            req = req.insert_header((header::ACCEPT_ENCODING, a));
        }
        choose(&req.to_http_request(), available)
    }

    #[test]
    fn picks_the_best_copy_the_client_accepts() {
        let both = [ContentEncoding::Brotli, ContentEncoding::Gzip];
        // What Chromium sends: brotli wins although gzip is listed first.
        assert_eq!(choose_for(Some("gzip, deflate, br, zstd"), &both), ContentEncoding::Brotli);
        assert_eq!(choose_for(Some("gzip"), &both), ContentEncoding::Gzip);
        assert_eq!(choose_for(Some("br;q=0.5, gzip"), &both), ContentEncoding::Gzip);
        assert_eq!(choose_for(Some("gzip, br"), &[ContentEncoding::Gzip]), ContentEncoding::Gzip);
        assert_eq!(choose_for(Some("deflate"), &both), ContentEncoding::Identity);
        assert_eq!(choose_for(None, &both), ContentEncoding::Identity);
    }

    #[test]
    fn finds_files_with_compressed_copies() {
        let dir = tempfile::tempdir().expect("tmp");
        for f in ["app.wasm", "app.wasm.br", "app.wasm.gz", "boot.js", "boot.js.gz", "index.html"] {
            std::fs::write(dir.path().join(f), f).expect("write");
        }
        let found = precompressed(dir.path());
        assert_eq!(
            found,
            vec![
                ("app.wasm".to_string(), vec![ContentEncoding::Brotli, ContentEncoding::Gzip]),
                ("boot.js".to_string(), vec![ContentEncoding::Gzip]),
            ]
        );
    }
}
