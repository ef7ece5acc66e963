"""Schemathesis hooks for the conformance run: the only failures let through are the documented ones.

The OpenAPI document states every rule JSON Schema can express. Three it cannot are stated in words,
and a schema-valid request that breaks one of them is refused by name: ``since`` after ``until``
(422), a conversation whose last message is not the user's (422), and a body over QA_MAX_BODY_BYTES
(413; a byte count, which JSON Schema has no keyword for). ``filter_failure`` drops a "schema-valid
request rejected" failure only when the request breaks one of those three rules and got exactly that
refusal; every other failure of every check stands.
"""

from __future__ import annotations

import json
import os

import schemathesis

MAX_BODY_BYTES = 64 * 1024  # QA_MAX_BODY_BYTES's default, which the conformance run uses
DROPPED_LOG = "QA_CONFORMANCE_DROPPED"  # a file to which each dropped failure's rule is appended, when set


def stated_only_in_words(body: object, status: int, sent: bytes) -> str | None:
    """Which documented non-schema rule a request body breaks, if the server's refusal is that rule's."""
    if status == 413 and len(sent) > MAX_BODY_BYTES:
        return "body over QA_MAX_BODY_BYTES"
    if status != 422 or not isinstance(body, dict):
        return None
    since, until = body.get("since"), body.get("until")
    if isinstance(since, str) and isinstance(until, str) and since > until:
        return "since after until"
    messages = body.get("messages")
    if isinstance(messages, list) and messages and messages[-1].get("role") != "user":
        return "last message not the user's"
    return None


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure but a schema-valid request refused for a rule the document states in words."""
    if failure.__class__.__name__ != "RejectedPositiveData":
        return True
    sent = response.request.body or b""
    sent = sent.encode() if isinstance(sent, str) else sent
    body = case.body if isinstance(case.body, dict) else json.loads(sent or b"null")
    rule = stated_only_in_words(body, response.status_code, sent)
    if rule and os.environ.get(DROPPED_LOG):
        with open(os.environ[DROPPED_LOG], "a", encoding="utf-8") as log:
            log.write(f"{case.operation.label}\t{response.status_code}\t{rule}\n")
    return rule is None
