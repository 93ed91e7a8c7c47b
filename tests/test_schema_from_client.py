"""tools/schema_from_client.py, and the rule it serves: every area schema that names its
`x-client-model` has the client's names, types and nullability (waldur-api-client 8.1.3)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from mockserver import spec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import schema_from_client as tool  # noqa: E402


def test_the_tool_reads_types_nullability_and_enums() -> None:
    out = tool.model_schema("Permission", ["scope_type", "scope_uuid", "customer_uuid"])
    assert out["properties"] == {
        "scope_type": {"type": "string", "nullable": True},
        "scope_uuid": {"type": "string", "format": "uuid"},
        "customer_uuid": {"type": "string", "format": "uuid", "nullable": True},
    }
    assert "required" not in out  # the client requires none of them
    credit = tool.model_schema("CustomerCredit", ["uuid", "end_date", "minimal_consumption"])
    assert credit["required"] == ["uuid", "minimal_consumption"]
    assert credit["properties"]["end_date"] == {"type": "string", "format": "date",
                                                "nullable": True}
    kind = tool.model_schema("Project", ["kind"])["properties"]["kind"]
    assert kind == {"type": "string", "enum": ["course", "default", "public"]}
    with pytest.raises(SystemExit, match="no field"):
        tool.model_schema("Project", ["no_such_field"])


def _client_schemas() -> list[tuple[str, dict[str, Any]]]:
    schemas = spec.load_spec()["components"]["schemas"]
    return [(name, s) for name, s in schemas.items() if "x-client-model" in s]


@pytest.mark.parametrize(("name", "schema"), _client_schemas(),
                         ids=[n for n, _ in _client_schemas()])
def test_area_schemas_follow_the_client(name: str, schema: dict[str, Any]) -> None:
    props = schema.get("properties", {})
    client = tool.model_schema(schema["x-client-model"], list(props))["properties"]
    for prop, ours in props.items():
        theirs = client[prop]
        if "$ref" in ours or "anyOf" in ours:
            continue  # a nested model we describe ourselves
        assert ours.get("type") == theirs.get("type"), (name, prop)
        assert bool(ours.get("nullable")) == bool(theirs.get("nullable")), (name, prop)
