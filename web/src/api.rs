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

async fn decode<T: DeserializeOwned>(res: Response) -> ApiResult<T> {
    res.json::<T>().await.map_err(|e| ApiError {
        status: res.status(),
        body: ErrorBody { code: "bad_response".into(), message: format!("Unexpected answer from the server: {e}"), details: None },
    })
}

/// Query pairs from a serializable filter (its `null`s left out).
fn query_of<Q: Serialize>(q: &Q) -> Vec<(String, String)> {
    match serde_json::to_value(q) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some((k, s)),
                other => Some((k, other.to_string())),
            })
            .collect(),
        _ => Vec::new(),
    }
}

async fn get<T: DeserializeOwned>(path: &str, query: Vec<(String, String)>) -> ApiResult<T> {
    let req = with_auth(Request::get(path)).query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    decode(finish(req.send().await).await?).await
}

async fn send<B: Serialize, T: DeserializeOwned>(req: RequestBuilder, body: &B) -> ApiResult<T> {
    let req = with_auth(req).json(body).map_err(|e| ApiError::network(e.to_string()))?;
    decode(finish(req.send().await).await?).await
}

async fn delete(path: &str) -> ApiResult<()> {
    finish(with_auth(Request::delete(path)).send().await).await.map(|_| ())
}

fn paged<F: Serialize>(page: PageParams, filter: &F) -> Vec<(String, String)> {
    let mut q = query_of(&page);
    q.extend(query_of(filter));
    q
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
    get("/api/campaigns", paged(page, filter)).await
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

// ---------------------------------------------------------------- buyers

pub async fn buyers(page: PageParams, filter: &BuyerFilter) -> ApiResult<Page<Buyer>> {
    get("/api/buyers", paged(page, filter)).await
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

// ---------------------------------------------------------------- publishers

pub async fn publishers(page: PageParams, filter: &PublisherFilter) -> ApiResult<Page<Publisher>> {
    get("/api/publishers", paged(page, filter)).await
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
    let mut q = query_of(&ALL);
    if let Some(id) = publisher_id {
        q.push(("publisher_id".into(), id.to_string()));
    }
    get("/api/api-keys", q).await
}
pub async fn create_api_key(body: &NewApiKey) -> ApiResult<CreatedApiKey> {
    send(Request::post("/api/api-keys"), body).await
}
pub async fn delete_api_key(id: i64) -> ApiResult<()> {
    delete(&format!("/api/api-keys/{id}")).await
}

// ---------------------------------------------------------------- numbers

pub async fn numbers(page: PageParams, filter: &PhoneNumberFilter) -> ApiResult<Page<PhoneNumber>> {
    get("/api/numbers", paged(page, filter)).await
}
pub async fn create_number(body: &NewPhoneNumber) -> ApiResult<PhoneNumber> {
    send(Request::post("/api/numbers"), body).await
}
pub async fn update_number(id: i64, body: &PhoneNumberPatch) -> ApiResult<PhoneNumber> {
    send(Request::patch(&format!("/api/numbers/{id}")), body).await
}

// ---------------------------------------------------------------- calls

pub async fn calls(page: PageParams, filter: &CallFilter) -> ApiResult<Page<Call>> {
    get("/api/calls", paged(page, filter)).await
}
pub async fn call(id: i64) -> ApiResult<CallDetail> {
    get(&format!("/api/calls/{id}"), vec![]).await
}
pub async fn simulate(body: &SimulateRequest) -> ApiResult<SimulateResponse> {
    send(Request::post("/api/routing/simulate"), body).await
}

// ---------------------------------------------------------------- users

pub async fn users(page: PageParams, filter: &UserFilter) -> ApiResult<Page<User>> {
    get("/api/users", paged(page, filter)).await
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
