"""Turn a waldur-api-client model class into an OpenAPI 3.0.3 component schema (YAML).

The published client (waldur-api-client 8.1.3, a test dependency) is generated from Waldur's
own schema, so its attrs classes carry the real names, types, nullability and the serializer's
field order. The stub's contracts take their schemas from here instead of retyping them:

    .venv/bin/python tools/schema_from_client.py Customer \\
        --fields url,uuid,name,slug,abbreviation --description "What HomePort reads."

prints `Customer:` with the chosen properties in the client's order (all of them without
`--fields`), `required` = the fields the client requires, `nullable: true` where the client
accepts None, enums inlined from the client's Enum classes (a nested model is `type: object`
with its class named in `x-client-model`). Paste the output into the area's contract and
adjust by hand only what the client cannot know (a `format: uri`, a description).
"""

from __future__ import annotations

import argparse
import enum
import importlib
import re
import sys
from typing import Any

import yaml

CLIENT_MODELS = "waldur_api_client.models"
SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "UUID": {"type": "string", "format": "uuid"},
    "datetime.datetime": {"type": "string", "format": "date-time"},
    "datetime.date": {"type": "string", "format": "date"},
    "Any": {},
}


def split_top(text: str) -> list[str]:
    """`a, list[b, c], d` -> ['a', 'list[b, c]', 'd']."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def normalise(annotation: Any) -> str:
    """An evaluated annotation as the client's source spells it: `Union[None, Unset, UUID]`."""
    text = annotation if isinstance(annotation, str) else str(annotation)
    if isinstance(annotation, type):
        text = annotation.__name__
    text = text.replace("datetime.datetime", "DATETIME").replace("datetime.date", "DATE")
    text = re.sub(r"ForwardRef\('([^']+)'\)", r"\1", text)
    text = re.sub(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)", r"\1", text)
    text = text.replace("NoneType", "None").replace("DATETIME", "datetime.datetime")
    return text.replace("DATE", "datetime.date")


def members(annotation: str) -> list[str]:
    """The members of a `Union[...]` annotation (or the annotation itself)."""
    text = annotation.strip().strip("'\"")
    match = re.fullmatch(r"Union\[(.*)\]", text)
    return [m.strip("'\"") for m in split_top(match.group(1))] if match else [text]


def enum_values(name: str) -> list[Any] | None:
    models = importlib.import_module(CLIENT_MODELS)
    cls = getattr(models, name, None)
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return [m.value for m in cls]
    return None


def type_schema(member: str) -> dict[str, Any]:
    """The schema of one non-None, non-Unset member."""
    if member in SCALARS:
        return dict(SCALARS[member])
    list_match = re.fullmatch(r"list\[(.*)\]", member)
    if list_match:
        inner = members(list_match.group(1))
        return {"type": "array", "items": union_schema(inner)[0]}
    dict_match = re.fullmatch(r"dict\[(.*)\]", member)
    if dict_match or member == "dict":
        return {"type": "object"}
    values = enum_values(member)
    if values is not None:
        return {"type": "string", "enum": values}
    return {"type": "object", "x-client-model": member}


def union_schema(items: list[str]) -> tuple[dict[str, Any], bool, bool]:
    """(schema, nullable, optional) of a union's members."""
    nullable = "None" in items
    optional = "Unset" in items
    rest = [m for m in items if m not in ("None", "Unset")]
    schemas = [type_schema(m) for m in rest]
    if len(schemas) == 1:
        out = schemas[0]
    elif schemas and all("enum" in s for s in schemas):  # BlankEnum + CountryEnum ...
        values: list[Any] = []
        for s in schemas:
            values += [v for v in s["enum"] if v not in values]
        out = {"type": "string", "enum": values}
    elif schemas:
        out = {"anyOf": schemas}
    else:
        out = {}
    if nullable:
        out["nullable"] = True
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out, nullable, optional


def model_schema(model: str, fields: list[str] | None = None,
                 description: str | None = None) -> dict[str, Any]:
    """The component schema of client model `model`, restricted to `fields` (client order)."""
    models = importlib.import_module(CLIENT_MODELS)
    cls = getattr(models, model)
    annotations: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        annotations.update({k: normalise(v)
                            for k, v in getattr(klass, "__annotations__", {}).items()})
    annotations.pop("additional_properties", None)
    unknown = [f for f in fields or () if _attr(f) not in annotations]
    if unknown:
        raise SystemExit(f"{model} has no field(s): {', '.join(unknown)}")
    wanted = set(fields) if fields else None
    props: dict[str, Any] = {}
    required: list[str] = []
    for attr, annotation in annotations.items():
        name = attr[:-1] if attr.endswith("_") and attr[:-1] in ("type", "id") else attr
        if wanted is not None and name not in wanted:
            continue
        schema, _nullable, optional = union_schema(members(annotation))
        props[name] = schema
        if not optional:
            required.append(name)
    out: dict[str, Any] = {"type": "object"}
    if description:
        out["description"] = description
    if required:
        out["required"] = required
    out["properties"] = props
    out["x-client-model"] = model
    return out


def _attr(name: str) -> str:
    return name + "_" if name in ("type", "id") else name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="client model class, e.g. Customer")
    parser.add_argument("--fields", help="comma-separated field names to keep (client order)")
    parser.add_argument("--name", help="component name (default: the model's)")
    parser.add_argument("--description")
    args = parser.parse_args(argv)
    fields = [f.strip() for f in args.fields.split(",")] if args.fields else None
    schema = model_schema(args.model, fields, args.description)
    yaml.safe_dump({args.name or args.model: schema}, sys.stdout, sort_keys=False, width=100)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
