//! Callbroker: pay-per-call routing and tracking.
//!
//! Layers, each importing only from those below it (`docs/architecture.md` has the picture):
//! - HTTP: `routes` (handlers), `auth` (who is calling), `security`, `client_ip`, `startup` (the server),
//!   `openapi` (the document), `metrics`, `web_ui` (the dashboard's files);
//! - services: `callflow` (every change to a call), `jobs` (durable queue), `postback`,
//!   `twilio` (REST client, signatures, TwiML), `analytics`, `live` (events to dashboards);
//! - pure rules: `routing`, `money`, `domain` (states, input rules);
//! - storage: `store` (statements, one module per resource; `store::calls` owns the call tables);
//! - infrastructure: `db` (connections, the SQLite writer, migrations), `config`, `error`,
//!   `outbound` (the guarded HTTP client for URLs operators and publishers give),
//!   `crypto` (secrets sealed at rest), `fsperm` (owner-only files and folders).
pub mod analytics;
pub mod auth;
pub mod bidding;
pub mod bootstrap;
pub mod callflow;
pub mod client_ip;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod fsperm;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod money;
pub mod openapi;
pub mod outbound;
pub mod postback;
pub mod routes;
pub mod routing;
pub mod security;
pub mod seed;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod twilio;
pub mod web_ui;
