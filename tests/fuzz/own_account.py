"""Schemathesis hook: the run keeps its own session. It signs in as the admin whose id is
CALLBROKER_FUZZ_ADMIN_ID; a generated request that would change or delete that user (valid data,
now that the document states the rules, often changes the password, which ends the user's
sessions as documented) goes to the spare user CALLBROKER_FUZZ_SPARE_USER_ID instead, so every
operation is still tried signed in, up to the end of the run.
"""
import os

import schemathesis

OWN = os.environ["CALLBROKER_FUZZ_ADMIN_ID"]
SPARE = os.environ["CALLBROKER_FUZZ_SPARE_USER_ID"]


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.path != "/api/users/{id}" or case.method.upper() not in ("PATCH", "DELETE"):
        return
    params = dict(case.path_parameters or {})
    if str(params.get("id")) == OWN:
        params["id"] = int(SPARE)
        case.path_parameters = params
