//! The OpenAPI document: a base (info, security scheme, tags) plus every path collected from the
//! same `.service(...)` registrations that serve the routes.
use actix_web::App;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Callbroker API",
        description = "Pay-per-call routing and tracking. Authenticate with `POST /api/auth/login` and send \
            `Authorization: Bearer <token>`, or use an API key (`cbk_...`) the same way.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&BearerAuth),
    // What the `data:` of the live event stream carries (its messages are described as SSE fields).
    components(schemas(callbroker_wire::LiveEvent, callbroker_wire::LiveReload)),
    tags(
        (name = "auth", description = "Sessions"),
        (name = "campaigns", description = "Campaigns and their buyers"),
        (name = "buyers", description = "Call buyers"),
        (name = "publishers", description = "Traffic publishers (affiliates)"),
        (name = "numbers", description = "Tracking numbers"),
        (name = "users", description = "Dashboard users"),
        (name = "api-keys", description = "Keys for integrators"),
        (name = "calls", description = "Tracked calls and their routing logs"),
        (name = "routing", description = "The routing simulator"),
        (name = "events", description = "Live call events (Server-Sent Events)"),
        (name = "analytics", description = "Totals and time series; the money recompute"),
        (name = "webhooks", description = "Twilio webhooks (signed by Twilio, not by a bearer token)"),
        (name = "twilio", description = "The Twilio account: credentials (admin only, shown masked)"),
        (name = "operations", description = "Health"),
    )
)]
pub struct BaseDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT or API key".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

/// The complete document, built from the route registrations.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, doc) = App::new().into_utoipa_app().openapi(BaseDoc::openapi()).configure(crate::startup::register_routes).split_for_parts();
    doc
}

/// The document as committed in `openapi.yaml`.
pub fn yaml() -> anyhow::Result<String> {
    Ok(document().to_yaml()?)
}
