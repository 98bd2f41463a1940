"""Schemathesis hook: every other generated request that carries a date (`from`, `to` in the query
or the JSON body, `at` in the body) gets an extreme one instead: at chrono's limits (year
±262,143), at the ends of RFC 3339's four-digit years, and just outside the years the API takes
(2000 to 2100). The server must answer them with a documented 4xx, never a 5xx or a dropped
connection. Deterministic: the values rotate in the order the cases come.
"""
import itertools

import schemathesis

EXTREMES = [
    "-262143-01-01T00:00:00Z",
    "+262142-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "1999-12-31T23:59:59Z",
    "2101-01-01T00:00:00Z",
]
QUERY_FIELDS = ("from", "to")
BODY_FIELDS = ("from", "to", "at")

_cases = itertools.count()
_values = itertools.cycle(EXTREMES)


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.path.startswith("/api/webhooks/"):
        return
    query = dict(case.query or {})
    body = case.body if isinstance(case.body, dict) else None
    fields = [f for f in QUERY_FIELDS if f in query] + [f for f in BODY_FIELDS if body is not None and f in body]
    if not fields or next(_cases) % 2:
        return
    field = fields[next(_cases) % len(fields)]
    value = next(_values)
    if field in query:
        query[field] = value
        case.query = query
    else:
        body = dict(body)
        body[field] = value
        case.body = body
