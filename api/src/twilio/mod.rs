//! Twilio voice integration: webhook signatures, webhook parameters, TwiML answers.

pub mod account;
pub mod client;
pub mod params;
pub mod signature;
pub mod tasks;
pub mod twiml;

pub use params::{
    form_pairs, from_form, from_pairs, CallStatus, CallStatusCallback, DialActionCallback, DialCallStatus, FormError, RecordingStatus,
    RecordingStatusCallback, VoiceWebhook,
};
pub use signature::{
    sign, verify, verify_json_body, Algorithm, SignatureError, SignatureKeys, SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER,
};
pub use twiml::{Dial, Number, Response as TwimlResponse, Say, Verb};
