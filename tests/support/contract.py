"""Checking a response against the OpenAPI document the server itself serves (JSON Schema 2020-12).

The schemas there are derived from the same types the responses are serialised from; checking each
response against them in the tests is how a field added to one and not the other would show.
"""

from __future__ import annotations

from functools import cache

import jsonschema_rs

from qa_service.web.openapi import spec


@cache
def _validator(name: str, admin: bool) -> jsonschema_rs.Draft202012Validator:
    document = spec(admin)
    return jsonschema_rs.Draft202012Validator({"$ref": f"#/components/schemas/{name}", **document})


def assert_conforms(name: str, data: object, admin: bool = False) -> None:
    """``data`` matches component ``name`` of the OpenAPI document (extra fields fail: the schemas forbid them)."""
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in _validator(name, admin).iter_errors(data)]
    assert not errors, (name, errors)
