"""Schemathesis hook: in the stateful phase, a link that carries `null` names no record.
schemathesis infers links from fields of responses and follows them with whatever the field
held: a user's `publisher_id` that is `null` reached the path as `None` (`/api/publishers/None`),
and the request still counted as valid data, so the server's 400 for a path id that is not a
number failed positive_data_acceptance. The hook puts the largest id there instead, which names
no record either (the server answers 404).
"""
import schemathesis

NO_RECORD = 2**63 - 1


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = case.meta
    if meta is None or meta.phase.name.value != "stateful" or not case.path_parameters:
        return
    if any(value is None for value in case.path_parameters.values()):
        case.path_parameters = {name: NO_RECORD if value is None else value for name, value in case.path_parameters.items()}
