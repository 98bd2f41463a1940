"""The schemathesis hooks of `tests/it/fuzz.rs` (SCHEMATHESIS_HOOKS=hooks): webhook signing and
extreme dates."""
import extreme_dates  # noqa: F401
import twilio_signing  # noqa: F401
