//! Integration tests: every test body runs against SQLite and PostgreSQL.
mod auth;
mod callflow;
mod concurrency;
mod crud;
mod hardening;
mod live;
mod openapi;
mod validation;
mod jobs;
mod twilio_account;
