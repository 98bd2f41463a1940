"""Schemathesis hook: signs the generated Twilio webhook requests as Twilio does, so that they get
past the signature check and reach the handlers.

X-Twilio-Signature is base64(HMAC-SHA1(Auth Token, public URL + path + query + the form parameters
sorted by name then value, each pair once, names and values concatenated)). The test passes the
token and public URL in CALLBROKER_FUZZ_TWILIO_TOKEN and CALLBROKER_FUZZ_PUBLIC_URL. A body that is
not form data keeps the generated (wrong) signature: the server must refuse it with 403.
"""
import base64
import hashlib
import hmac
import os
from urllib.parse import parse_qsl, urlencode

import schemathesis

TOKEN = os.environ["CALLBROKER_FUZZ_TWILIO_TOKEN"].encode()
PUBLIC_URL = os.environ["CALLBROKER_FUZZ_PUBLIC_URL"].rstrip("/")


def form_pairs(body):
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        return parse_qsl(body, keep_blank_values=True)
    if isinstance(body, dict):
        return [(str(k), str(v)) for k, v in body.items()]
    return None


@schemathesis.hook
def before_call(context, case, kwargs):
    if not case.path.startswith("/api/webhooks/"):
        return
    pairs = form_pairs(case.body)
    if pairs is None:
        return
    query = urlencode(case.query or {}, doseq=True)
    # The path as requested, its parameters (a leg's id) filled in.
    signed = PUBLIC_URL + case.formatted_path + ("?" + query if query else "")
    signed += "".join(name + value for name, value in sorted(set(pairs)))
    digest = hmac.new(TOKEN, signed.encode("utf-8", "surrogatepass"), hashlib.sha1).digest()
    headers = dict(case.headers or {})
    headers["X-Twilio-Signature"] = base64.b64encode(digest).decode()
    case.headers = headers
