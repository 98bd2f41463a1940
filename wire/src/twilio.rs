//! The Twilio account: credentials (shown masked), number imports, webhook set-up.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The Twilio credentials in force, never in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwilioAccount {
    /// Where the credentials come from: `api` (set through this API), `config`
    /// (`TWILIO_ACCOUNT_SID`/`TWILIO_AUTH_TOKEN`) or `none`.
    pub source: String,
    /// The Account SID, masked except its first and last characters (`AC12…cdef`).
    pub account_sid: Option<String>,
    /// The Auth Token's last four characters behind a mask (`••••1234`).
    pub auth_token: Option<String>,
    /// API key SID (`SK…`), masked, when REST calls use an API key.
    pub api_key_sid: Option<String>,
    pub api_key_secret_set: bool,
    /// The REST API base URL in use.
    pub api_base: String,
    /// Whether transcripts can be requested (a Voice Intelligence Service is configured).
    pub transcription_available: bool,
    pub updated_at: Option<DateTime<Utc>>,
    /// This server's public URL (`CALLBROKER_PUBLIC_URL`), which Twilio's webhooks are set to.
    #[serde(default)]
    pub public_url: String,
    /// The voice webhook URL numbers are configured with.
    #[serde(default)]
    pub voice_url: String,
}

/// New credentials; they replace what was set through the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "auth_token": "your_auth_token"})))]
pub struct TwilioAccountUpdate {
    /// `AC` followed by 32 hexadecimal digits.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::AccountSid))]
    pub account_sid: String,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::rules::AuthToken))]
    pub auth_token: String,
    /// Optional API key (`SK` + 32 hex) used for REST calls instead of the Auth Token.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::rules::ApiKeySid>))]
    pub api_key_sid: Option<String>,
    /// Given with `api_key_sid` and only with it (else 422 naming the missing one).
    #[serde(default)]
    pub api_key_secret: Option<String>,
}

/// An import of the account's numbers and how far it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NumberImport {
    pub id: i64,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// Pages of `IncomingPhoneNumbers` read so far.
    pub pages: i32,
    /// Numbers read so far.
    pub processed: i32,
    /// Numbers that were not known before.
    pub new: i32,
    /// Known numbers whose SID, number or friendly name changed.
    pub updated: i32,
    pub unchanged: i32,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Voice webhook settings of a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookSettings {
    pub voice_url: Option<String>,
    pub voice_method: Option<String>,
    pub status_callback: Option<String>,
    pub status_callback_method: Option<String>,
}

/// Whether Twilio's configuration of a number matches this server's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookStatus {
    pub number_id: i64,
    pub number: String,
    pub provider_sid: Option<String>,
    /// `in_sync`, `drift` (fields differ; see `drift`), `not_on_twilio` (no provider SID) or
    /// `error` (Twilio could not be asked; see `error`).
    pub state: String,
    /// Names of the fields that differ.
    pub drift: Vec<String>,
    pub expected: WebhookSettings,
    pub actual: Option<WebhookSettings>,
    pub error: Option<String>,
}
