//! Callbroker: pay-per-call routing and tracking.
//!
//! Layout: `config` (settings), `db` (connections, schema, migrations), `store` (queries per
//! resource), `domain` (input rules), `auth` (who is calling), `routes` (HTTP handlers),
//! `startup` (the server), `openapi` (the document).
pub mod analytics;
pub mod auth;
pub mod bootstrap;
pub mod callflow;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod money;
pub mod openapi;
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
