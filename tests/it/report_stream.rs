//! The CSV report of 100,000 calls streams in constant memory: over HTTP it is sent chunked and
//! complete; and the stream the route sends reads the database batch by batch (at most
//! `CSV_BATCH` rows at a time) only as chunks are taken — proven by deleting the calls after the
//! first chunk: a report loaded up front would still yield all 100,000 rows, a lazy one stops.
//! (Polled directly, because over TCP the kernel's buffers could absorb the whole report.)
use callbroker::db::{Db, PoolOptions};
use callbroker_tests::{both_backends, TestApp};
use diesel::RunQueryDsl;
use serde_json::json;

both_backends!(csv_of_100k_calls_streams);

const CALLS: u64 = 100_000;

#[allow(clippy::naive_bytecount, reason = "two chunks' lines counted once; not worth the bytecount crate")]
async fn csv_of_100k_calls_streams(app: TestApp) {
    use futures::StreamExt;
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

    // The route's stream, polled directly: after the first chunk the calls disappear.
    let (from, to) = (chrono::DateTime::UNIX_EPOCH.naive_utc(), (chrono::Utc::now() + chrono::Duration::days(1)).naive_utc());
    let mut stream = Box::pin(callbroker::routes::analytics::csv_stream(db.clone(), publisher, from, to));
    let first = stream.next().await.expect("a first chunk").expect("ok");
    let first_rows = first.iter().filter(|b| **b == b'\n').count() - 1;
    assert_eq!(i64::try_from(first_rows), Ok(callbroker::store::reports::CSV_BATCH), "the first chunk is the header and one batch");
    let second = stream.next().await.expect("a second chunk").expect("ok");
    let second_rows = second.iter().filter(|b| **b == b'\n').count();
    assert_eq!(i64::try_from(second_rows), Ok(callbroker::store::reports::CSV_BATCH), "then one batch per chunk");
    tokio::task::spawn_blocking(move || {
        db.write_blocking(|c| {
            diesel::sql_query("DELETE FROM call_legs").execute(c)?;
            Ok(diesel::sql_query("DELETE FROM calls").execute(c)?)
        })
        .expect("delete")
    })
    .await
    .expect("delete");
    assert!(stream.next().await.is_none(), "rows are read as the stream is consumed, not before");
}
