use actix_web::{get, web, HttpResponse};
use serde_json::json;

use crate::state::AppState;

/// The process is up.
#[utoipa::path(operation_id = "get_health", security(), tag = "operations", responses((status = 200, description = "Up", body = serde_json::Value, example = json!({"status": "ok"}))))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers.
#[utoipa::path(operation_id = "get_readiness", security(), tag = "operations", responses(
    (status = 200, description = "Ready", body = serde_json::Value, example = json!({"status": "ready", "database": "sqlite"})),
    (status = 503, description = "Database unreachable", body = callbroker_wire::ErrorBody),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, crate::routes::AppError> {
    state.db.ping().await?;
    let backend = match state.db.backend() {
        crate::db::Backend::Sqlite => "sqlite",
        crate::db::Backend::Postgres => "postgres",
    };
    Ok(HttpResponse::Ok().json(json!({"status": "ready", "database": backend})))
}
