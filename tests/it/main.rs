//! Integration tests: every test body runs against SQLite and PostgreSQL.
mod auth;
mod crud;
mod openapi;
mod validation;
