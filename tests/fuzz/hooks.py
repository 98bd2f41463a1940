"""The schemathesis hooks of `tests/it/fuzz.rs` (SCHEMATHESIS_HOOKS=hooks): webhook signing,
extreme dates, the run's own session kept, links that carry `null`, and records another record's
deletion removes."""
import cascades  # noqa: F401
import extreme_dates  # noqa: F401
import link_values  # noqa: F401
import own_account  # noqa: F401
import twilio_signing  # noqa: F401
