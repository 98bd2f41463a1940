//! What every handler can reach.
use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::db::Db;

pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub jwt: JwtKeys,
    /// Live events fan-out (`GET /api/events`).
    pub live: Arc<crate::live::Hub>,
    /// The call flow (webhooks and the background work that changes calls).
    pub flow: crate::callflow::Flow,
    /// The webhook-signing Auth Token, cached (see [`crate::twilio::account::TokenCache`]).
    pub twilio_token: crate::twilio::account::TokenCache,
    /// Addresses outbound requests may reach besides public ones (`CALLBROKER_OUTBOUND_ALLOW_HOSTS`).
    pub outbound_allow: Arc<crate::outbound::AllowList>,
    /// Whose `X-Forwarded-For` names the client (`CALLBROKER_TRUSTED_PROXIES`).
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    /// The keys stored secrets are sealed with ([`crate::crypto`]).
    pub secrets: Arc<crate::crypto::Keyring>,
}
