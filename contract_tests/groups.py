"""What kind of problem a failure is, and a stable name for it (docs/contract-tests.md, "Summary
groups" and "Baseline").

Groups, in the order the summary shows them:
- server errors: the server answered 5xx (or gave no answer);
- missing operations: the server does not serve an operation of the contract at all (every
  answer was a 404 that is not a DRF error body, e.g. Django's HTML page): reported once;
- version drift: the response names things the contract does not know, or lacks what it
  requires - a value outside an enum, a field the schema forbids, a required field missing
  (response_schema_conformance at an `enum`, `additionalProperties` or `required` keyword);
  typically a newer or older Waldur than the contract;
- contract violations: everything else (wrong status, body shape, headers, domain rules).
"""

from __future__ import annotations

import re

SERVER_ERRORS = "server errors"
MISSING_OPERATIONS = "missing operations"
VERSION_DRIFT = "version drift"
CONTRACT_VIOLATIONS = "contract violations"
GROUPS = (SERVER_ERRORS, MISSING_OPERATIONS, VERSION_DRIFT, CONTRACT_VIOLATIONS)

MISSING_OPERATION_CHECK = "missing_operation"
DRIFT_KEYWORDS = frozenset({"enum", "additionalProperties", "required"})
SERVER_ERROR_CHECKS = frozenset({"not_a_server_error"})

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   r"[0-9a-fA-F]{12}\b")
_URL = re.compile(r"https?://\S+")
_QUOTED = re.compile(r"b?'(?:[^'\\]|\\.)*'|b?\"(?:[^\"\\]|\\.)*\"")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_SPACE = re.compile(r"\s+")
_ROLE = re.compile(r"\bas [\w.@+-]+:")  # role checks: "as proj_admin: ..."


def group_of(check: str, status: int | None, failure_class: str, signature: str) -> str:
    """The summary group of one failure (see the module docstring)."""
    if check == MISSING_OPERATION_CHECK:
        return MISSING_OPERATIONS
    if check in SERVER_ERROR_CHECKS or (status is not None and status >= 500):
        return SERVER_ERRORS
    if failure_class == "JsonSchemaError" and schema_keyword(signature) in DRIFT_KEYWORDS:
        return VERSION_DRIFT
    return CONTRACT_VIOLATIONS


def schema_keyword(schema_path: str) -> str:
    """The JSON Schema keyword a schema path ends in (`properties/state/enum` -> `enum`);
    a path that ends in an index (`required/0`) names the keyword before it."""
    parts = [p for p in schema_path.split("/") if p and not p.isdigit()]
    return parts[-1] if parts else ""


def normalise(message: str) -> str:
    """A failure message without what varies from run to run: generated values, identifiers,
    URLs, numbers and the role of a role check are masked; only the first line and its first
    clause are kept."""
    line = next((ln for ln in message.splitlines() if ln.strip()), "")
    line = line.split(";", 1)[0]
    line = _ROLE.sub("as <role>:", line)
    line = _URL.sub("<url>", line)
    line = _UUID.sub("<uuid>", line)
    line = _QUOTED.sub("<value>", line)
    line = _NUMBER.sub("<n>", line)
    return _SPACE.sub(" ", line).strip()[:200]
