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
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    // Relative: the document describes the server that serves it.
    servers((url = "/", description = "The server this document is served by")),
    modifiers(&BearerAuth),
    // What the `data:` of the live event stream carries (its messages are described as SSE fields),
    // and the rules query parameters point at (utoipa collects a body's schemas, not a parameter's).
    components(schemas(
        callbroker_wire::bidding::BidSettings,
        callbroker_wire::LiveEvent,
        callbroker_wire::LiveReload,
        callbroker_wire::rules::PageNumber,
        callbroker_wire::rules::PerPage,
        callbroker_wire::rules::Instant,
        callbroker_wire::rules::GroupTag,
        callbroker_wire::rules::TagConditions,
        callbroker_wire::rules::QueryText,
    )),
    tags(
        (name = "auth", description = "Sessions"),
        (name = "campaigns", description = "Campaigns and their buyers"),
        (name = "buyers", description = "Call buyers"),
        (name = "bidders", description = "External bidders of a campaign (real-time bidding): pinged for every call, the best bid dialled"),
        (name = "rtb", description = "The publishers' ping API: a quote for a caller before the transfer"),
        (name = "publishers", description = "Traffic publishers (affiliates)"),
        (name = "numbers", description = "Tracking numbers"),
        (name = "users", description = "Dashboard users"),
        (name = "api-keys", description = "Keys for integrators"),
        (name = "calls", description = "Tracked calls and their routing logs"),
        (name = "blocklist", description = "Caller numbers and prefixes blocked before any buyer rings"),
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
    let (_, mut doc) =
        App::new().into_utoipa_app().openapi(BaseDoc::openapi()).configure(crate::startup::register_routes).split_for_parts();
    CreateLinks.modify(&mut doc);
    doc
}

/// Links from each create (`POST /api/x` answering 201 with the new record) to every operation on
/// `/api/x/{id}`, the id taken from the created record: tools that chain calls (schemathesis'
/// stateful phase, generated clients) follow them. Runs on the finished document, so a new
/// resource of the same shape gets its links without more code.
struct CreateLinks;

impl Modify for CreateLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::link::LinkBuilder;
        use utoipa::openapi::RefOr;
        let schemas = openapi.components.as_ref().map(|c| c.schemas.clone()).unwrap_or_default();
        let paths = &mut openapi.paths.paths;
        let targets: Vec<(String, String, Vec<String>)> = paths
            .iter()
            .filter_map(|(path, item)| {
                let record = paths.get(&format!("{path}/{{id}}"))?;
                let created = item.post.as_ref()?.responses.responses.get("201")?;
                let RefOr::T(created) = created else { return None };
                let schema = created.content.get("application/json")?.schema.as_ref()?;
                let pointer = id_pointer(&schemas, schema)?;
                let ops = [&record.get, &record.patch, &record.put, &record.delete];
                let ids: Vec<String> = ops.into_iter().flatten().filter_map(|op| op.operation_id.clone()).collect();
                Some((path.clone(), pointer, ids))
            })
            .collect();
        for (path, pointer, ids) in targets {
            let created = paths.get_mut(&path).and_then(|item| item.post.as_mut()).and_then(|op| op.responses.responses.get_mut("201"));
            let Some(RefOr::T(created)) = created else { continue };
            for id in ids {
                let link = LinkBuilder::new()
                    .operation_id(id.clone())
                    .parameter("id", format!("$response.body#{pointer}"))
                    .description("The record this request created")
                    .build();
                created.links.insert(id, RefOr::T(link));
            }
        }
    }
}

type Schemas = std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>;

/// Where the record's id is in a created record's body: `/id`, or `/<field>/id` when the record
/// is one field of the answer (a new API key comes with its secret).
fn id_pointer(schemas: &Schemas, schema: &utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) -> Option<String> {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    let properties = |schema: &RefOr<Schema>| match schema {
        RefOr::Ref(r) => match schemas.get(r.ref_location.rsplit('/').next()?)? {
            RefOr::T(Schema::Object(o)) => Some(o.properties.clone()),
            _ => None,
        },
        RefOr::T(Schema::Object(o)) => Some(o.properties.clone()),
        RefOr::T(_) => None,
    };
    let top = properties(schema)?;
    if top.contains_key("id") {
        return Some("/id".into());
    }
    top.iter().find_map(|(name, field)| properties(field)?.contains_key("id").then(|| format!("/{name}/id")))
}

/// The document as served at `/api/openapi.json`.
pub fn json() -> anyhow::Result<serde_json::Value> {
    let mut doc = serde_json::to_value(document())?;
    for item in doc["paths"].as_object_mut().into_iter().flat_map(|paths| paths.values_mut()) {
        for op in item.as_object_mut().into_iter().flat_map(|item| item.values_mut()) {
            for response in op["responses"].as_object_mut().into_iter().flat_map(|r| r.values_mut()) {
                for link in response.get_mut("links").and_then(|l| l.as_object_mut()).into_iter().flat_map(|l| l.values_mut()) {
                    if let Some(link) = link.as_object_mut() {
                        if let Some(id) = link.remove(LINK_KEY_AS_WRITTEN) {
                            link.insert("operationId".into(), id);
                        }
                    }
                }
            }
        }
    }
    Ok(doc)
}

/// The document as committed in `openapi.yaml`.
pub fn yaml() -> anyhow::Result<String> {
    let text = document().to_yaml()?;
    let key = format!("{LINK_KEY_AS_WRITTEN}: ");
    Ok(text
        .lines()
        .map(|line| match line.trim_start().strip_prefix(&key) {
            Some(id) => format!("{}operationId: {id}\n", &line[..line.len() - line.trim_start().len()]),
            None => format!("{line}\n"),
        })
        .collect())
}

/// utoipa 5.5 writes a link's `operationId` as `operation_id` (its `Link` lacks the camelCase
/// renaming its other types have), so the written document gets the key the specification names.
/// No other object of the document has a field written so.
const LINK_KEY_AS_WRITTEN: &str = "operation_id";
