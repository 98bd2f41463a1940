//! The dashboard's big files go out compressed: `scripts/build-web.sh` writes `.br` and `.gz`
//! copies, and the server sends the one the browser accepts, with the original's content type.
use callbroker_tests::{Backend, TestApp};

fn web_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    for (name, body) in [
        ("index.html", "<!doctype html><title>SPA</title>"),
        ("app_bg.wasm", "raw wasm"),
        ("app_bg.wasm.br", "brotli wasm"),
        ("app_bg.wasm.gz", "gzip wasm"),
        ("app.js", "raw js"),
        ("app.js.gz", "gzip js"),
        ("style.css", "raw css"),
    ] {
        std::fs::write(dir.path().join(name), body).expect("write");
    }
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_copies_are_negotiated() {
    let web = web_dir();
    let path = web.path().to_path_buf();
    let app = TestApp::launch_with(Backend::Sqlite, move |c| c.web_dir = path).await;
    let get = |path: &'static str, accept: Option<&'static str>| {
        let mut req = app.client.get(app.url(path));
        if let Some(a) = accept {
            req = req.header("accept-encoding", a);
        }
        async move {
            let res = req.send().await.expect("send");
            let h = |n: &str| res.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let (status, encoding, vary, ctype) = (res.status().as_u16(), h("content-encoding"), h("vary"), h("content-type"));
            (status, encoding, vary, ctype, res.text().await.expect("body"))
        }
    };
    // What Chromium sends: brotli is preferred even though gzip is listed first.
    let (status, encoding, vary, ctype, body) = get("/app_bg.wasm", Some("gzip, deflate, br, zstd")).await;
    assert_eq!((status, encoding.as_str(), body.as_str()), (200, "br", "brotli wasm"));
    assert_eq!(ctype, "application/wasm", "streaming compilation needs the wasm type");
    assert!(vary.to_ascii_lowercase().split(',').any(|v| v.trim() == "accept-encoding"), "caches must key on Accept-Encoding: {vary}");

    let (_, encoding, _, _, body) = get("/app_bg.wasm", Some("gzip")).await;
    assert_eq!((encoding.as_str(), body.as_str()), ("gzip", "gzip wasm"));
    let (_, encoding, _, _, body) = get("/app_bg.wasm", Some("br;q=0, gzip;q=0")).await;
    assert_eq!((encoding.as_str(), body.as_str()), ("", "raw wasm"), "nothing acceptable: the file as it is");
    let (_, encoding, _, _, body) = get("/app_bg.wasm", None).await;
    assert_eq!((encoding.as_str(), body.as_str()), ("", "raw wasm"));

    // Only a gzip copy: brotli-capable clients get gzip.
    let (_, encoding, _, ctype, body) = get("/app.js", Some("br, gzip")).await;
    assert_eq!((encoding.as_str(), body.as_str()), ("gzip", "gzip js"));
    assert!(ctype.contains("javascript"), "{ctype}");
    // No copies at all: served as before.
    let (status, encoding, _, _, body) = get("/style.css", Some("br, gzip")).await;
    assert_eq!((status, encoding.as_str(), body.as_str()), (200, "", "raw css"));
    // The SPA's own routes still get the page.
    let (status, _, _, _, body) = get("/calls/12", Some("br, gzip")).await;
    assert_eq!((status, body.as_str()), (200, "<!doctype html><title>SPA</title>"));
}
