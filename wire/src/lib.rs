//! Wire types of the Callbroker API: every request and response body that travels between the
//! server, the dashboard (compiled to wasm32) and the tests. Serde only; the `openapi` feature adds
//! utoipa schemas for the server's OpenAPI document.

pub mod analytics;
pub mod auth;
pub mod bidding;
pub mod calls;
pub mod common;
pub mod csv;
pub mod directory;
pub mod ivr;
pub mod live;
pub mod routing;
pub mod rules;
pub mod schedule;
pub mod screening;
pub mod twilio;

pub use analytics::*;
pub use auth::*;
pub use calls::*;
pub use common::*;
pub use directory::*;
pub use ivr::*;
pub use live::*;
pub use routing::*;
pub use schedule::{ClockTime, Day, WeeklySchedule, Window};
pub use screening::*;
pub use twilio::*;
