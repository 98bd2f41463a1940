//! Create / list / get / update / delete of every directory resource, as an operator would.
use callbroker_tests::{both_backends, TestApp};
use serde_json::json;

both_backends!(campaign_buyer_publisher_number_lifecycle, paging_and_filters, deletes_keep_references_sane);

async fn campaign_buyer_publisher_number_lifecycle(app: TestApp) {
    let buyer = app
        .create(
            "/api/buyers",
            json!({"name": "Buyer A", "phone_number": "+1 (415) 555-0100", "max_concurrent_calls": 3,
                   "timezone": "America/New_York", "schedule": [{"day": "fri", "start": "22:00", "end": "06:00"}],
                   "allowed_states": ["ca", "NY"], "cap_daily": 50}),
        )
        .await;
    assert_eq!(buyer["phone_number"], "+14155550100", "number normalised to E.164");
    assert_eq!(buyer["allowed_states"], json!(["CA", "NY"]));
    assert_eq!(buyer["weight"], 1);
    assert_eq!(buyer["sticky_repeat_callers"], true);
    let buyer_id = buyer["id"].as_i64().expect("buyer id");

    let campaign = app.create("/api/campaigns", json!({"name": "First Campaign", "buyers": [{"buyer_id": buyer_id, "priority": 5}]})).await;
    assert_eq!(campaign["greeting"], "Please hold while we connect you");
    assert_eq!(campaign["busy_message"], "All agents are currently busy. Please try again later");
    assert_eq!(campaign["status"], "active");
    assert_eq!(campaign["buyers"], json!([{"buyer_id": buyer_id, "priority": 5, "weight": null}]));
    let campaign_id = campaign["id"].as_i64().expect("campaign id");

    let publisher = app.create("/api/publishers", json!({"name": "Publisher A", "contact_email": "Pub@Example.com"})).await;
    assert_eq!(publisher["contact_email"], "pub@example.com");
    let publisher_id = publisher["id"].as_i64().expect("publisher id");

    let number = app.create("/api/numbers", json!({"number": "+17175550123", "provider_sid": "PN0123456789abcdef0123456789abcdef"})).await;
    let number_id = number["id"].as_i64().expect("number id");
    assert_eq!(number["campaign_id"], json!(null));

    // Assign the number to the campaign and publisher, as the Phone Numbers page does.
    let (status, number) = app
        .admin("PATCH", &format!("/api/numbers/{number_id}"), Some(json!({"campaign_id": campaign_id, "publisher_id": publisher_id})))
        .await;
    assert_eq!(status, 200, "{number}");
    assert_eq!(number["campaign_id"], campaign_id);
    assert_eq!(number["publisher_id"], publisher_id);

    // Partial updates leave other fields alone; null clears a cap.
    let (status, updated) = app.admin("PATCH", &format!("/api/buyers/{buyer_id}"), Some(json!({"priority": 7, "cap_daily": null}))).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["priority"], 7);
    assert_eq!(updated["cap_daily"], json!(null));
    assert_eq!(updated["name"], "Buyer A");
    assert_eq!(updated["schedule"], buyer["schedule"]);

    let (status, updated) = app
        .admin("PATCH", &format!("/api/campaigns/{campaign_id}"), Some(json!({"status": "paused", "greeting": "Hi & welcome <3"})))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["status"], "paused");
    assert_eq!(updated["greeting"], "Hi & welcome <3");
    assert_eq!(updated["buyers"].as_array().map(Vec::len), Some(1), "assignments kept when not given");

    let (status, got) = app.admin("GET", &format!("/api/campaigns/{campaign_id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(got, updated);

    let (status, got) = app.admin("GET", &format!("/api/publishers/{publisher_id}"), None).await;
    assert_eq!((status, &got["name"]), (200, &json!("Publisher A")));

    // Delete the buyer: its assignment goes with it.
    let (status, _) = app.admin("DELETE", &format!("/api/buyers/{buyer_id}"), None).await;
    assert_eq!(status, 204);
    let (status, _) = app.admin("GET", &format!("/api/buyers/{buyer_id}"), None).await;
    assert_eq!(status, 404);
    let (_, got) = app.admin("GET", &format!("/api/campaigns/{campaign_id}"), None).await;
    assert_eq!(got["buyers"], json!([]));
}

async fn paging_and_filters(app: TestApp) {
    for i in 0..7 {
        let status = if i % 2 == 0 { "active" } else { "paused" };
        app.create("/api/campaigns", json!({"name": format!("Camp {i} Solar"), "status": status})).await;
    }
    app.create("/api/campaigns", json!({"name": "Insurance 100%_off"})).await;

    let (status, page) = app.admin("GET", "/api/campaigns?page=2&per_page=3", None).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 8);
    assert_eq!(page["page"], 2);
    assert_eq!(page["per_page"], 3);
    let names: Vec<&str> = page["items"].as_array().expect("items").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["Camp 3 Solar", "Camp 4 Solar", "Camp 5 Solar"]);

    let (_, page) = app.admin("GET", "/api/campaigns?status=paused", None).await;
    assert_eq!(page["total"], 3);

    // Case-insensitive on both backends; LIKE wildcards in the query are literal.
    let (_, page) = app.admin("GET", "/api/campaigns?q=solar", None).await;
    assert_eq!(page["total"], 7);
    let (_, page) = app.admin("GET", "/api/campaigns?q=100%25_", None).await;
    assert_eq!(page["total"], 1);
    let (_, page) = app.admin("GET", "/api/campaigns?q=%25", None).await;
    assert_eq!(page["total"], 1, "a literal % matches only names containing %");

    let (status, body) = app.admin("GET", "/api/campaigns?per_page=0", None).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["details"]["fields"]["per_page"].is_string());
    let (status, body) = app.admin("GET", "/api/campaigns?status=deleted", None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "bad_request");

    // Buyers by campaign.
    let b1 = app.create("/api/buyers", json!({"name": "B1", "phone_number": "+14155550101"})).await;
    app.create("/api/buyers", json!({"name": "B2", "phone_number": "+14155550102"})).await;
    let c = app.create("/api/campaigns", json!({"name": "With B1", "buyers": [{"buyer_id": b1["id"]}]})).await;
    let (_, page) = app.admin("GET", &format!("/api/buyers?campaign_id={}", c["id"]), None).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["name"], "B1");
}

async fn deletes_keep_references_sane(app: TestApp) {
    let p = app.create("/api/publishers", json!({"name": "P"})).await;
    let c = app.create("/api/campaigns", json!({"name": "C"})).await;
    let n = app.create("/api/numbers", json!({"number": "+17175550100", "campaign_id": c["id"], "publisher_id": p["id"]})).await;
    // A publisher with users cannot be deleted.
    app.create("/api/users", json!({"email": "pub@p.example", "password": "publisher-pass", "role": "publisher", "publisher_id": p["id"]}))
        .await;
    let (status, body) = app.admin("DELETE", &format!("/api/publishers/{}", p["id"]), None).await;
    assert_eq!(status, 409, "{body}");
    // Deleting the campaign leaves the number, unassigned.
    let (status, _) = app.admin("DELETE", &format!("/api/campaigns/{}", c["id"]), None).await;
    assert_eq!(status, 204);
    let (_, number) = app.admin("GET", &format!("/api/numbers/{}", n["id"]), None).await;
    assert_eq!(number["campaign_id"], json!(null));
    assert_eq!(number["publisher_id"], p["id"]);
    let (status, _) = app.admin("DELETE", &format!("/api/campaigns/{}", c["id"]), None).await;
    assert_eq!(status, 404);
}
