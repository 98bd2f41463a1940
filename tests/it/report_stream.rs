//! The CSV report of 100,000 calls streams in constant memory: it is sent chunked, and rows are
//! read from the database batch by batch (at most `CSV_BATCH` at a time) only as the client
//! takes them — proven by deleting the calls after the first chunk has arrived: a server that
//! had loaded the report up front would still send all 100,000 rows.
use callbroker::db::{Db, PoolOptions};
use callbroker_tests::{both_backends, TestApp};
use diesel::RunQueryDsl;
use serde_json::json;

both_backends!(csv_of_100k_calls_streams);

const CALLS: u64 = 100_000;

async fn csv_of_100k_calls_streams(app: TestApp) {
    let publisher = app.create("/api/publishers", json!({"name": "Big"})).await["id"].as_i64().expect("id");
    let url = app.db.url.clone();
    let db = tokio::task::spawn_blocking(move || {
        let db = Db::connect(&url, &PoolOptions::default()).expect("db");
        callbroker::seed::seed_calls(&db, CALLS, 10, 7).expect("seed");
        db.write_blocking(|c| Ok(diesel::sql_query(format!("UPDATE calls SET publisher_id = {publisher}")).execute(c)?)).expect("update");
        db
    })
    .await
    .expect("seeding");
    let path = format!("/api/publishers/{publisher}/report?format=csv&from=2000-01-01T00:00:00Z");

    // The whole report.
    let res = app.client.get(app.url(&path)).bearer_auth(&app.admin_token).send().await.expect("csv");
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("content-length").is_none(), "streamed, not sized up front");
    assert_eq!(res.headers().get("transfer-encoding").and_then(|v| v.to_str().ok()), Some("chunked"));
    let body = res.bytes().await.expect("body");
    let lines = body.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
    assert_eq!(lines as u64, CALLS + 1, "header + every call");

    // Again, but the calls disappear once the first chunk is in: the rest must come from the
    // database batch by batch, so the stream ends early.
    let mut res = app.client.get(app.url(&path)).bearer_auth(&app.admin_token).send().await.expect("csv");
    let first = res.chunk().await.expect("chunk").expect("a first chunk");
    assert!(first.len() < 200 * callbroker::store::reports::CSV_BATCH as usize, "a chunk is one bounded batch ({} bytes)", first.len());
    tokio::task::spawn_blocking(move || {
        db.write_blocking(|c| {
            diesel::sql_query("DELETE FROM call_legs").execute(c)?;
            Ok(diesel::sql_query("DELETE FROM calls").execute(c)?)
        })
        .expect("delete")
    })
    .await
    .expect("delete");
    let mut received = first.iter().filter(|b| **b == b'\n').count() as u64;
    while let Some(chunk) = res.chunk().await.expect("chunk") {
        received += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    assert!(received < CALLS / 2, "rows are fetched while streaming, not before: received {received} of {CALLS}");
}
