//! HTTP routes, one module per resource. Handlers are thin: check the caller's role, parse the
//! input, run a store function on the database, answer JSON.
pub mod allow;
pub mod analytics;
pub mod api_keys;
pub mod auth;
pub mod bidders;
pub mod blocklist;
pub mod body;
pub mod buyers;
pub mod calls;
pub mod campaigns;
pub mod error;
pub mod events;
pub mod health;
pub mod numbers;
pub mod publishers;
pub mod rtb;
pub mod twilio;
pub mod users;
pub mod webhooks;

use callbroker_wire::ErrorBody;

pub use error::{AppError, FieldErrors};
use utoipa_actix_web::service_config::ServiceConfig;

/// Everything under `/api`.
pub fn configure_api(cfg: &mut ServiceConfig) {
    // First: Twilio's webhooks are most of the traffic, and actix tries a scope's routes in the
    // order they were registered, matching each route with a parameter (`/calls/{id}`) by a
    // regular expression. Behind the ~40 other routes, regex and route matching took a seventh of
    // the HTTP workers' time under load (3% with the webhooks first). Their paths are fixed and
    // shadow no other route.
    webhooks::configure(cfg);
    auth::configure(cfg);
    campaigns::configure(cfg);
    buyers::configure(cfg);
    bidders::configure(cfg);
    rtb::configure(cfg);
    publishers::configure(cfg);
    // Before numbers: its `/numbers/webhooks` must not be taken for `/numbers/{id}`.
    twilio::configure(cfg);
    numbers::configure(cfg);
    users::configure(cfg);
    api_keys::configure(cfg);
    calls::configure(cfg);
    blocklist::configure(cfg);
    events::configure(cfg);
    analytics::configure(cfg);
    cfg.default_service(actix_web::web::to(unknown_route));
}

async fn unknown_route() -> Result<actix_web::HttpResponse, crate::routes::AppError> {
    Err(crate::routes::AppError::NotFound("route"))
}

/// A body of raw bytes (a recording's audio): `type: string, format: binary` in the document, so
/// generated clients hand it over as a file instead of parsing it.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))).into()
    }
}

impl utoipa::ToSchema for Binary {}

/// Errors any authenticated route can answer.
#[allow(dead_code)]
#[derive(utoipa::IntoResponses)]
pub enum AuthErrors {
    /// No valid token or API key.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The caller's role does not allow this.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// The database is unreachable.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// Errors of routes that read one record.
#[allow(dead_code)]
#[derive(utoipa::IntoResponses)]
pub enum NotFoundError {
    /// The id in the path is not an integer.
    #[response(status = 400)]
    BadPath(ErrorBody),
    /// No such record (or not visible to the caller).
    #[response(status = 404)]
    NotFound(ErrorBody),
}

/// Errors of routes that take a body.
#[allow(dead_code)]
#[derive(utoipa::IntoResponses)]
pub enum InputErrors {
    /// Malformed JSON or query.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// A unique value is already taken, or a reference prevents the change.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// Body over the size limit.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not `application/json`.
    #[response(status = 415)]
    NotJson(ErrorBody),
    /// Fields failed validation; `details.fields` says which and why.
    #[response(status = 422)]
    Invalid(ErrorBody),
}
