"""Schemathesis hooks for the API contract test (tests/test_api_contract.py).

The document cannot list every well-formed value the server refuses for want of data (a
municipality code nobody has, a place the gazetteer does not know, lat without lng). It names
those refusals per parameter in `x-error-codes`; the contract test lets a schema-valid request
get a 400 only with such a code, for a parameter that declares it.
"""

from __future__ import annotations

import schemathesis

GENERIC = "invalid_parameter"


@schemathesis.check
def refused_only_by_a_data_check(ctx, response, case):
    """A schema-valid request refused with 400 must name a data check its parameter declares."""
    meta = case.meta
    if response.status_code != 400 or meta is None or not meta.generation.mode.is_positive:
        return None
    error = response.json()["error"]
    declared = _declared_codes(case, error.get("field"))
    if error["code"] == GENERIC or error["code"] not in declared:
        raise AssertionError(
            f"A schema-valid request was refused with {error['code']!r} for "
            f"{error.get('field')!r}, which the document does not declare: {error['message']}"
        )
    return None


def _declared_codes(case, field: str | None) -> list[str]:
    """Return the x-error-codes the operation's parameter `field` declares."""
    operation = case.operation.schema.raw_schema["paths"][case.operation.path]
    for parameter in operation[case.method.lower()].get("parameters", []):
        if parameter["name"] == field:
            return parameter.get("x-error-codes", [])
    return []
