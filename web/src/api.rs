//! The typed API client: one function per route the dashboard uses, every body a
//! `callbroker-wire` type. Errors come back as [`ApiError`], which carries the server's
//! [`ErrorBody`] (and so the field errors of a 422).
//!
//! The session token is read from [`crate::session`] for each request; a 401 ends the session
//! (the app shell then shows the sign-in page).

use std::collections::BTreeMap;

use callbroker_wire::*;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What went wrong with a request.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status; 0 when the server could not be reached.
    pub status: u16,
    pub body: ErrorBody,
}

impl ApiError {
    fn network(message: String) -> Self {
        ApiError {
            status: 0,
            body: ErrorBody { code: "network".into(), message: format!("The server could not be reached ({message})."), details: None },
        }
    }

    /// The per-field messages of a 422 (`details.fields`), empty otherwise.
    pub fn fields(&self) -> BTreeMap<String, String> {
        self.body
            .details
            .as_ref()
            .and_then(|d| d.get("fields"))
            .and_then(|f| f.as_object())
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))).collect())
            .unwrap_or_default()
    }

    /// A sentence for the page.
    pub fn message(&self) -> String {
        match self.status {
            0 => self.body.message.clone(),
            403 => "You do not have access to this.".to_owned(),
            _ => self.body.message.clone(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

fn with_auth(req: RequestBuilder) -> RequestBuilder {
    match crate::session::token() {
        Some(token) => req.header("Authorization", &format!("Bearer {token}")),
        None => req,
    }
}

async fn finish(res: Result<Response, gloo_net::Error>) -> ApiResult<Response> {
    let res = res.map_err(|e| ApiError::network(e.to_string()))?;
    let status = res.status();
    if (200..300).contains(&status) {
        return Ok(res);
    }
    let body = res.json::<ErrorBody>().await.unwrap_or_else(|_| ErrorBody {
        code: "http_error".into(),
        message: format!("The server answered {status} {}.", res.status_text()),
        details: None,
    });
    if status == 401 {
        crate::session::expired();
    }
    Err(ApiError { status, body })
}

/// The body of a successful answer (non-generic; decoding is the only per-type code).
async fn text_of(res: ApiResult<Response>) -> ApiResult<(u16, String)> {
    let res = res?;
    let status = res.status();
    let text = res.text().await.map_err(|e| ApiError::network(e.to_string()))?;
    Ok((status, text))
}

fn decode<T: DeserializeOwned>((status, text): (u16, String)) -> ApiResult<T> {
    serde_json::from_str(&text).map_err(|e| ApiError {
        status,
        body: ErrorBody { code: "bad_response".into(), message: format!("Unexpected answer from the server: {e}"), details: None },
    })
}

/// Query parameters, built by hand (serializing filters through `serde_json::Value` would cost
/// the wasm a second serializer).
struct Query(Vec<(String, String)>);

impl Query {
    fn page(p: PageParams) -> Query {
        Query(vec![("page".into(), p.page.to_string()), ("per_page".into(), p.per_page.to_string())])
    }
    fn opt(mut self, key: &str, v: Option<impl ToString>) -> Query {
        if let Some(v) = v {
            self.0.push((key.to_owned(), v.to_string()));
        }
        self
    }
    /// The parameter once per value (`tag=a&tag=b`).
    fn many(mut self, key: &str, values: &[String]) -> Query {
        self.0.extend(values.iter().map(|v| (key.to_owned(), v.clone())));
        self
    }
}

fn utc(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| format!("{}Z", crate::format::short_time(t).replace(' ', "T")))
}

// The request itself is sent by non-generic functions, so that each typed route below adds only
// its JSON decoding to the wasm.

async fn get_response(path: &str, query: Vec<(String, String)>) -> ApiResult<(u16, String)> {
    let req = with_auth(Request::get(path)).query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    text_of(finish(req.send().await).await).await
}

async fn send_response(req: RequestBuilder, body: Result<String, serde_json::Error>) -> ApiResult<(u16, String)> {
    let body = body.map_err(|e| ApiError::network(e.to_string()))?;
    let req = with_auth(req).header("Content-Type", "application/json").body(body).map_err(|e| ApiError::network(e.to_string()))?;
    text_of(finish(req.send().await).await).await
}

async fn get<T: DeserializeOwned>(path: &str, query: Vec<(String, String)>) -> ApiResult<T> {
    decode(get_response(path, query).await?)
}

async fn send<B: Serialize, T: DeserializeOwned>(req: RequestBuilder, body: &B) -> ApiResult<T> {
    decode(send_response(req, serde_json::to_string(body)).await?)
}

async fn delete(path: &str) -> ApiResult<()> {
    finish(with_auth(Request::delete(path)).send().await).await.map(|_| ())
}

/// A POST without a body.
async fn post<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    decode(text_of(finish(with_auth(Request::post(path)).send().await).await).await?)
}

/// Everything on one page (lists for dropdowns).
pub const ALL: PageParams = PageParams { page: 1, per_page: 500 };

// ---------------------------------------------------------------- auth

pub async fn login(req: &LoginRequest) -> ApiResult<LoginResponse> {
    send(Request::post("/api/auth/login"), req).await
}
pub async fn me() -> ApiResult<User> {
    get("/api/auth/me", vec![]).await
}

// ---------------------------------------------------------------- campaigns

pub async fn campaigns(page: PageParams, filter: &CampaignFilter) -> ApiResult<Page<Campaign>> {
    get("/api/campaigns", Query::page(page).opt("status", filter.status.map(Status::as_str)).opt("q", filter.q.as_ref()).0).await
}
pub async fn campaign(id: i64) -> ApiResult<Campaign> {
    get(&format!("/api/campaigns/{id}"), vec![]).await
}
pub async fn create_campaign(body: &NewCampaign) -> ApiResult<Campaign> {
    send(Request::post("/api/campaigns"), body).await
}
pub async fn update_campaign(id: i64, body: &CampaignPatch) -> ApiResult<Campaign> {
    send(Request::patch(&format!("/api/campaigns/{id}")), body).await
}
/// The TwiML of an IVR as edited (nothing is saved).
pub async fn ivr_preview(body: &IvrPreviewRequest) -> ApiResult<IvrPreview> {
    send(Request::post("/api/campaigns/ivr/preview"), body).await
}

// ---------------------------------------------------------------- buyers

pub async fn buyers(page: PageParams, filter: &BuyerFilter) -> ApiResult<Page<Buyer>> {
    get(
        "/api/buyers",
        Query::page(page)
            .opt("status", filter.status.map(Status::as_str))
            .opt("q", filter.q.as_ref())
            .opt("campaign_id", filter.campaign_id)
            .0,
    )
    .await
}
pub async fn buyer(id: i64) -> ApiResult<Buyer> {
    get(&format!("/api/buyers/{id}"), vec![]).await
}
pub async fn create_buyer(body: &NewBuyer) -> ApiResult<Buyer> {
    send(Request::post("/api/buyers"), body).await
}
pub async fn update_buyer(id: i64, body: &BuyerPatch) -> ApiResult<Buyer> {
    send(Request::patch(&format!("/api/buyers/{id}")), body).await
}

// ---------------------------------------------------------------- bidders (real-time bidding)
//
// These routes' bodies and answers travel as `serde_json::Value` (built and read through
// [`crate::json`], field names as in `callbroker_wire::bidding`): its encoder and decoder are in
// the wasm already (error details, call events), where a derived one per type would cost the
// first load more than the pages that use them.

pub type Json = serde_json::Value;

async fn send_json(req: RequestBuilder, body: &Json) -> ApiResult<Json> {
    decode(send_response(req, Ok(body.to_string())).await?)
}

/// `[Bidder]`: a campaign's bidders.
pub async fn bidders(campaign_id: i64) -> ApiResult<Json> {
    get("/api/bidders", vec![("campaign_id".into(), campaign_id.to_string())]).await
}
/// A `Bidder`.
pub async fn bidder(id: i64) -> ApiResult<Json> {
    get(&format!("/api/bidders/{id}"), vec![]).await
}
/// A `NewBidder` (no id) or a `BidderPatch`, answered by the `Bidder` saved.
pub async fn save_bidder(id: Option<i64>, body: &Json) -> ApiResult<Json> {
    match id {
        Some(id) => send_json(Request::patch(&format!("/api/bidders/{id}")), body).await,
        None => send_json(Request::post("/api/bidders"), body).await,
    }
}
pub async fn delete_bidder(id: i64) -> ApiResult<()> {
    delete(&format!("/api/bidders/{id}")).await
}
/// A `TestPingRequest`, answered by a `TestPingResult`: the bidder pinged as saved.
pub async fn test_bidder(id: i64, body: &Json) -> ApiResult<Json> {
    send_json(Request::post(&format!("/api/bidders/{id}/test")), body).await
}
/// An `RtbPingRequest`, answered by an `RtbQuote` (publishers).
pub async fn rtb_ping(body: &Json) -> ApiResult<Json> {
    send_json(Request::post("/api/rtb/ping"), body).await
}
/// `[BidderStats]`: each bidder's pings, bids, wins and revenue over a range.
pub async fn bidder_stats(from: Option<chrono::DateTime<chrono::Utc>>, to: Option<chrono::DateTime<chrono::Utc>>) -> ApiResult<Json> {
    get("/api/analytics/bidders", Query(vec![]).opt("from", utc(from)).opt("to", utc(to)).0).await
}

// ---------------------------------------------------------------- publishers

pub async fn publishers(page: PageParams, filter: &PublisherFilter) -> ApiResult<Page<Publisher>> {
    get("/api/publishers", Query::page(page).opt("status", filter.status.map(Status::as_str)).opt("q", filter.q.as_ref()).0).await
}
pub async fn publisher(id: i64) -> ApiResult<Publisher> {
    get(&format!("/api/publishers/{id}"), vec![]).await
}
pub async fn create_publisher(body: &NewPublisher) -> ApiResult<Publisher> {
    send(Request::post("/api/publishers"), body).await
}
pub async fn update_publisher(id: i64, body: &PublisherPatch) -> ApiResult<Publisher> {
    send(Request::patch(&format!("/api/publishers/{id}")), body).await
}

// ---------------------------------------------------------------- API keys

pub async fn api_keys(publisher_id: Option<i64>) -> ApiResult<Page<ApiKey>> {
    get("/api/api-keys", Query::page(ALL).opt("publisher_id", publisher_id).0).await
}
pub async fn create_api_key(body: &NewApiKey) -> ApiResult<CreatedApiKey> {
    send(Request::post("/api/api-keys"), body).await
}
pub async fn delete_api_key(id: i64) -> ApiResult<()> {
    delete(&format!("/api/api-keys/{id}")).await
}

// ---------------------------------------------------------------- numbers

pub async fn numbers(page: PageParams, filter: &PhoneNumberFilter) -> ApiResult<Page<PhoneNumber>> {
    get(
        "/api/numbers",
        Query::page(page).opt("campaign_id", filter.campaign_id).opt("publisher_id", filter.publisher_id).opt("q", filter.q.as_ref()).0,
    )
    .await
}
pub async fn create_number(body: &NewPhoneNumber) -> ApiResult<PhoneNumber> {
    send(Request::post("/api/numbers"), body).await
}
pub async fn update_number(id: i64, body: &PhoneNumberPatch) -> ApiResult<PhoneNumber> {
    send(Request::patch(&format!("/api/numbers/{id}")), body).await
}

// ---------------------------------------------------------------- calls

pub async fn calls(page: PageParams, filter: &CallFilter) -> ApiResult<Page<Call>> {
    get(
        "/api/calls",
        Query::page(page)
            .opt("campaign_id", filter.campaign_id)
            .opt("buyer_id", filter.buyer_id)
            .opt("publisher_id", filter.publisher_id)
            .opt("status", filter.status.as_ref())
            .opt("outcome", filter.outcome.as_ref())
            .opt("from", utc(filter.from))
            .opt("to", utc(filter.to))
            .opt("blocked_by", filter.blocked_by.map(BlockRule::as_str))
            .opt("ivr_outcome", filter.ivr_outcome.map(IvrOutcome::as_str))
            .many("tag", &filter.tag)
            .0,
    )
    .await
}
pub async fn call(id: i64) -> ApiResult<CallDetail> {
    get(&format!("/api/calls/{id}"), vec![]).await
}
pub async fn simulate(body: &SimulateRequest) -> ApiResult<SimulateResponse> {
    send(Request::post("/api/routing/simulate"), body).await
}

// ---------------------------------------------------------------- blocklist

fn blocklist_query(q: Query, f: &BlocklistFilter) -> Vec<(String, String)> {
    q.opt("campaign_id", f.campaign_id).opt("global", f.global).opt("q", f.q.as_ref()).0
}
pub async fn blocklist(page: PageParams, filter: &BlocklistFilter) -> ApiResult<Page<BlocklistEntry>> {
    get("/api/blocklist", blocklist_query(Query::page(page), filter)).await
}
pub async fn create_blocklist_entry(body: &NewBlocklistEntry) -> ApiResult<BlocklistEntry> {
    send(Request::post("/api/blocklist"), body).await
}
pub async fn update_blocklist_entry(id: i64, body: &BlocklistPatch) -> ApiResult<BlocklistEntry> {
    send(Request::patch(&format!("/api/blocklist/{id}")), body).await
}
pub async fn delete_blocklist_entry(id: i64) -> ApiResult<()> {
    delete(&format!("/api/blocklist/{id}")).await
}
/// Sends a CSV file (a `File` from an `<input type=file>`, passed to `fetch` as it is) to the
/// import route; a 422 names every bad row in its field errors (`line N: column`).
pub async fn import_blocklist(csv: wasm_bindgen::JsValue) -> ApiResult<BlocklistImport> {
    let req = with_auth(Request::post("/api/blocklist/import")).header("Content-Type", "text/csv").body(csv);
    let req = req.map_err(|e| ApiError::network(e.to_string()))?;
    decode(text_of(finish(req.send().await).await).await?)
}
/// The entries matching `filter` as the server's CSV.
pub async fn export_blocklist(filter: &BlocklistFilter) -> ApiResult<String> {
    get_response("/api/blocklist/export", blocklist_query(Query(vec![]), filter)).await.map(|(_, text)| text)
}

// ---------------------------------------------------------------- users

pub async fn users(page: PageParams, filter: &UserFilter) -> ApiResult<Page<User>> {
    get("/api/users", Query::page(page).opt("role", filter.role.map(Role::as_str)).opt("publisher_id", filter.publisher_id).0).await
}
pub async fn create_user(body: &NewUser) -> ApiResult<User> {
    send(Request::post("/api/users"), body).await
}
pub async fn update_user(id: i64, body: &UserPatch) -> ApiResult<User> {
    send(Request::patch(&format!("/api/users/{id}")), body).await
}
pub async fn delete_user(id: i64) -> ApiResult<()> {
    delete(&format!("/api/users/{id}")).await
}

// ---------------------------------------------------------------- analytics

fn analytics_query(q: &AnalyticsQuery) -> Vec<(String, String)> {
    let group = q.group_by.map(|g| match g {
        GroupBy::Campaign => "campaign",
        GroupBy::Buyer => "buyer",
        GroupBy::Publisher => "publisher",
        GroupBy::Number => "number",
        GroupBy::Tag => "tag",
        GroupBy::BlockedBy => "blocked_by",
    });
    let bucket = q.bucket.map(|b| match b {
        Bucket::Hour => "hour",
        Bucket::Day => "day",
        Bucket::Week => "week",
    });
    Query(vec![])
        .opt("from", utc(q.from))
        .opt("to", utc(q.to))
        .opt("tz", q.tz.as_ref())
        .opt("group_by", group)
        .opt("bucket", bucket)
        .opt("campaign_id", q.campaign_id)
        .opt("publisher_id", q.publisher_id)
        .opt("tag", q.tag.as_ref())
        .0
}
pub async fn summary(q: &AnalyticsQuery) -> ApiResult<Summary> {
    get("/api/analytics/summary", analytics_query(q)).await
}
pub async fn timeseries(q: &AnalyticsQuery) -> ApiResult<Timeseries> {
    get("/api/analytics/timeseries", analytics_query(q)).await
}
/// A campaign's IVR drop-off over a range.
pub async fn ivr_funnel(q: &IvrFunnelQuery) -> ApiResult<IvrFunnel> {
    get(
        "/api/analytics/ivr",
        Query(vec![("campaign_id".into(), q.campaign_id.to_string())]).opt("from", utc(q.from)).opt("to", utc(q.to)).0,
    )
    .await
}

fn report_query(from: Option<chrono::DateTime<chrono::Utc>>, to: Option<chrono::DateTime<chrono::Utc>>, q: Query) -> Vec<(String, String)> {
    q.opt("from", utc(from)).opt("to", utc(to)).0
}
/// A publisher's attribution report, one page.
pub async fn report(
    id: i64,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
    page: PageParams,
) -> ApiResult<Page<ReportRow>> {
    get(&format!("/api/publishers/{id}/report"), report_query(from, to, Query::page(page))).await
}
/// The whole report as the server's CSV.
pub async fn report_csv(
    id: i64,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
) -> ApiResult<String> {
    let q = report_query(from, to, Query(vec![("format".into(), "csv".into())]));
    get_response(&format!("/api/publishers/{id}/report"), q).await.map(|(_, text)| text)
}

// ---------------------------------------------------------------- Twilio

pub async fn twilio_account() -> ApiResult<TwilioAccount> {
    get("/api/twilio/account", vec![]).await
}
pub async fn set_twilio_account(body: &TwilioAccountUpdate) -> ApiResult<TwilioAccount> {
    send(Request::put("/api/twilio/account"), body).await
}
pub async fn import_numbers() -> ApiResult<NumberImport> {
    post("/api/numbers/import").await
}
pub async fn number_import(id: i64) -> ApiResult<NumberImport> {
    get(&format!("/api/numbers/imports/{id}"), vec![]).await
}
pub async fn webhooks() -> ApiResult<Vec<WebhookStatus>> {
    get("/api/numbers/webhooks", vec![]).await
}
pub async fn fix_webhooks(id: i64) -> ApiResult<WebhookStatus> {
    post(&format!("/api/numbers/{id}/webhooks/configure")).await
}
pub async fn fix_all_webhooks() -> ApiResult<Vec<WebhookStatus>> {
    post("/api/numbers/webhooks/configure").await
}
