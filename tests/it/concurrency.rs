//! Bursts of simultaneous calls never put more calls on a buyer than its maximum: on SQLite, on
//! PostgreSQL, and with two server instances on one PostgreSQL database.
use std::collections::HashMap;

use callbroker::db::schema::{buyers, call_legs};
use callbroker::db::{Db, PoolOptions};
use callbroker_tests::{both_backends, Backend, TestApp};
use diesel::prelude::*;
use serde_json::json;

const NUMBER: &str = "+17175550100";
const CALLS: usize = 500;

async fn setup(app: &TestApp) -> HashMap<String, i64> {
    let mut max_by_phone = HashMap::new();
    let mut ids = vec![];
    for (i, max) in [2, 3, 5].into_iter().enumerate() {
        let phone = format!("+1415555020{i}");
        let b = app.create("/api/buyers", json!({"name": format!("B{i}"), "phone_number": phone, "max_concurrent_calls": max})).await;
        ids.push(json!({"buyer_id": b["id"]}));
        max_by_phone.insert(phone, max);
    }
    let c = app.create("/api/campaigns", json!({"name": "Burst", "buyers": ids})).await;
    app.create("/api/numbers", json!({"number": NUMBER, "campaign_id": c["id"]})).await;
    max_by_phone
}

/// Unreleased legs per buyer, from the database's own record.
fn held_slots(url: &str) -> HashMap<String, i64> {
    let db = Db::connect(url, &PoolOptions { max_connections: 2, ..PoolOptions::default() }).expect("db");
    db.write_blocking(|c| {
        Ok(call_legs::table
            .inner_join(buyers::table)
            .filter(call_legs::released.eq(false))
            .group_by(buyers::phone_number)
            .select((buyers::phone_number, diesel::dsl::count_star()))
            .load::<(String, i64)>(c)?)
    })
    .expect("query")
    .into_iter()
    .collect()
}

async fn burst(apps: &[&TestApp], max_by_phone: &HashMap<String, i64>) {
    let mut tasks = Vec::with_capacity(CALLS);
    for i in 0..CALLS {
        let app = apps[i % apps.len()];
        let sid = format!("CABURST{i:05}");
        let caller = format!("+1201555{i:04}");
        tasks.push(async move { app.incoming_call(&sid, &caller, NUMBER, &[]).await });
    }
    let answers = futures::future::join_all(tasks).await;
    let mut dialled: HashMap<String, i64> = HashMap::new();
    for a in &answers {
        assert_eq!(a.status, 200, "{a:?}");
        assert!(a.is_twiml(), "{a:?}");
        match a.dialled_number() {
            Some(n) => *dialled.entry(n).or_default() += 1,
            None => assert!(a.says("All agents are currently busy"), "{a:?}"),
        }
    }
    // Nobody hung up, so exactly the total capacity was handed out, and never more per buyer.
    assert_eq!(dialled, *max_by_phone, "every slot used once, none over");
    let held = held_slots(&apps[0].db.url);
    assert_eq!(held, *max_by_phone, "the database agrees");
}

both_backends!(worker_threads = 4; burst_on_one_instance);

async fn burst_on_one_instance(app: TestApp) {
    let max = setup(&app).await;
    burst(&[&app], &max).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn burst_on_two_instances_sharing_postgres() {
    let app = TestApp::launch(Backend::Postgres).await;
    let max = setup(&app).await;
    let second = app.second_instance().await;
    burst(&[&app, &second], &max).await;
}
