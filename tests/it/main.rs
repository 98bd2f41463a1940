//! Integration tests: every test body runs against SQLite and PostgreSQL.
mod auth;
mod callflow;
mod concurrency;
mod crud;
mod hardening;
mod live;
mod matrix;
mod money;
mod report_stream;
mod openapi;
mod postbacks;
mod validation;
mod jobs;
mod twilio_account;
