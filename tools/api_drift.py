"""Drift between the project's contract and a published `waldur-api-client`.

    python tools/api_drift.py --client PATH_TO/waldur_api_client   # an unpacked package
    python tools/api_drift.py --client waldur_api_client-X.whl     # a wheel
    python tools/api_drift.py --download [--pre]                   # the newest one on PyPI
    ... [--spec openapi/marketplace-orders.yaml] [--fail-on-drift] [--output report.md]

Compares, for the area the stub serves (`/api/marketplace-orders/`):
- operations: METHOD + path of the spec vs the client's `api/marketplace_orders/*.py`, and the
  query parameters of each (filters, ordering, pages);
- schemas: every component schema of the spec that has a client model of the same name:
  fields added / removed, type (string, integer, number, boolean, array, object, the string
  formats the client types: uuid, date-time, date), nullability, required, enum values;
- enums: spec enum components vs the client's Enum classes of the same name.
The client is read statically (ast): nothing of it is imported or run. Markdown on stdout;
exit 1 with --fail-on-drift when anything differs.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT / "mockserver" / "openapi" / "marketplace-orders.yaml"
AREA = "/api/marketplace-orders/"
CLIENT_API_DIR = "marketplace_orders"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
CLIENT_TYPES = {"str": "string", "UUID": "string:uuid", "datetime.datetime": "string:date-time",
                "datetime.date": "string:date", "bool": "boolean", "int": "integer",
                "float": "number", "File": "string:binary", "Any": "any"}
SPEC_FORMATS = {"uuid", "date-time", "date", "binary"}  # formats the client turns into types


@dataclass(frozen=True)
class Field:
    """A field, as comparable on both sides."""

    type: str  # string, string:uuid, integer, ..., object, array, enum, any
    nullable: bool
    required: bool
    enum: tuple[str, ...] | None = None  # enum values (None: not an enum)

    def describe(self) -> str:
        text = self.type + (" | null" if self.nullable else "")
        if self.enum is not None:
            text += f" {{{', '.join(self.enum)}}}"
        return text + (", required" if self.required else "")


@dataclass
class Report:
    client_version: str
    ops_added: list[str] = field(default_factory=list)  # in the client, not in the spec
    ops_removed: list[str] = field(default_factory=list)  # in the spec, not in the client
    params: dict[str, list[str]] = field(default_factory=dict)  # operation -> change lines
    schemas: dict[str, list[str]] = field(default_factory=dict)  # name -> change lines
    unmatched: list[str] = field(default_factory=list)  # spec schemas without a client model

    @property
    def drift(self) -> bool:
        return bool(self.ops_added or self.ops_removed or any(self.params.values())
                    or any(self.schemas.values()))

    def markdown(self) -> str:
        out = [f"# API drift: the contract vs waldur-api-client {self.client_version}", ""]
        changes = sum(len(v) for v in self.schemas.values())
        params = sum(len(v) for v in self.params.values())
        touched = sum(1 for v in self.schemas.values() if v)
        out.append(f"{len(self.ops_added)} operations added, {len(self.ops_removed)} removed; "
                   f"{params} query parameter changes; {changes} schema changes in {touched} "
                   "schemas." if self.drift else "No drift.")
        out += ["", "## Operations (client vs spec)", ""]
        out += [f"- added in the client: `{op}`" for op in self.ops_added]
        out += [f"- not in the client (removed?): `{op}`" for op in self.ops_removed]
        for op, lines in sorted(self.params.items()):
            out += [f"- `{op}`: {line}" for line in lines]
        if not (self.ops_added or self.ops_removed or any(self.params.values())):
            out.append("- no change")
        out += ["", "## Schemas (client vs spec)", ""]
        for name, lines in sorted(self.schemas.items()):
            if lines:
                out.append(f"### {name}")
                out += [f"- {line}" for line in lines]
                out.append("")
        if not any(self.schemas.values()):
            out += ["- no change", ""]
        if self.unmatched:
            out.append("Spec schemas without a client model of the same name (not compared): "
                       + ", ".join(f"`{n}`" for n in self.unmatched))
        return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# The spec
def spec_operations(spec: dict[str, Any]) -> dict[str, str]:
    """'METHOD /path/{}/' -> operationId, for the area."""
    out = {}
    for path, item in spec.get("paths", {}).items():
        if not path.startswith(AREA):
            continue
        for method in HTTP_METHODS:
            if method in item:
                out[f"{method.upper()} {_generic(path)}"] = item[method].get("operationId", "")
    return out


def spec_query_parameters(spec: dict[str, Any]) -> dict[str, set[str]]:
    """'METHOD /path/{}/' -> names of its query parameters, for the area."""
    out: dict[str, set[str]] = {}
    for path, item in spec.get("paths", {}).items():
        if not path.startswith(AREA):
            continue
        for method in HTTP_METHODS:
            if method not in item:
                continue
            names = set()
            for param in [*item.get("parameters", []), *item[method].get("parameters", [])]:
                if "$ref" in param:
                    param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
                if param.get("in") == "query":
                    names.add(param["name"])
            out[f"{method.upper()} {_generic(path)}"] = names
    return out


def _generic(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return name, spec["components"]["schemas"][name]
    return None, node


def spec_field(spec: dict[str, Any], node: dict[str, Any], required: bool) -> Field:
    nullable = bool(node.get("nullable"))
    kinds: list[str] = []
    enum: list[str] | None = None
    members = node.get("anyOf") or node.get("oneOf") or node.get("allOf") or [node]
    for member in members:
        _, schema = _resolve(spec, member)
        nullable = nullable or bool(schema.get("nullable"))
        values = schema.get("enum")
        if values is not None:
            real = [v for v in values if v not in (None, "")]
            if not real:  # NullEnum / BlankEnum: no type of their own
                nullable = nullable or None in values
                continue
            nullable = nullable or None in values
            enum = sorted({*(enum or []), *map(str, real)})
            kinds.append("enum")
            continue
        kind = schema.get("type") or ("object" if "properties" in schema else "any")
        if kind == "string" and schema.get("format") in SPEC_FORMATS:
            kind = f"string:{schema['format']}"
        kinds.append(kind)
    kinds = sorted(set(kinds)) or ["any"]
    return Field("|".join(kinds), nullable, required, tuple(enum) if enum else None)


def spec_schema(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Field] | Field:
    if "enum" in schema:
        return spec_field(spec, schema, False)
    required = set(schema.get("required") or [])
    return {name: spec_field(spec, node, name in required)
            for name, node in (schema.get("properties") or {}).items()}


# ---------------------------------------------------------------------------------------------
# The client (openapi-python-client output, read with ast)
def snake(name: str) -> str:
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class Client:
    def __init__(self, package: Path) -> None:
        self.package = package
        self._trees: dict[str, ast.Module | None] = {}

    @property
    def version(self) -> str:
        for meta in sorted(self.package.parent.glob("waldur_api_client-*.dist-info/METADATA")):
            for line in meta.read_text(encoding="utf-8").splitlines():
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
        return "(unknown version)"

    def _module(self, module: str) -> ast.Module | None:
        if module not in self._trees:
            path = self.package / "models" / f"{module}.py"
            self._trees[module] = ast.parse(path.read_text(encoding="utf-8")) if path.exists() \
                else None
        return self._trees[module]

    def _class(
        self, name: str, module: str | None = None
    ) -> tuple[ast.ClassDef, ast.Module] | None:
        tree = self._module(module or snake(name))
        if tree is None:
            return None
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                return node, tree
        return None

    def operations(self) -> dict[str, str]:
        return {op: stem for op, (stem, _) in self._operations().items()}

    def query_parameters(self) -> dict[str, set[str]]:
        return {op: params for op, (_, params) in self._operations().items()}

    def _operations(self) -> dict[str, tuple[str, set[str]]]:
        """'METHOD /path/{}/' -> (module name, query parameter names: `params["x"] = ...`)."""
        out = {}
        for path in sorted((self.package / "api" / CLIENT_API_DIR).glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found = _kwargs_method_url(tree)
            if found:
                out[f"{found[0].upper()} {_generic(found[1])}"] = (path.stem, _query_params(tree))
        return out

    def schema(self, name: str) -> dict[str, Field] | Field | None:
        found = self._class(name)
        if found is None:
            return None
        cls, tree = found
        if any(isinstance(b, ast.Name) and b.id == "Enum" for b in cls.bases):
            return Field("enum", False, False, _enum_values(cls))
        imports = _model_imports(tree)
        fields: dict[str, Field] = {}
        for stmt in cls.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            attr = stmt.target.id
            if attr == "additional_properties":
                continue
            wire = attr[:-1] if attr.endswith("_") and not attr.startswith("_") else attr
            fields[wire] = self._field(stmt.annotation, stmt.value is None, imports)
        return fields

    def _field(self, annotation: ast.expr, no_default: bool, imports: dict[str, str]) -> Field:
        members = _union_members(annotation)
        nullable = "None" in members
        required = no_default and "Unset" not in members
        kinds: list[str] = []
        enum: list[str] | None = None
        for member in members:
            if member in ("None", "Unset"):
                continue
            if member in CLIENT_TYPES:
                kinds.append(CLIENT_TYPES[member])
            elif member.startswith(("list[", "List[")):
                kinds.append("array")
            elif member.startswith(("dict[", "Dict[")):
                kinds.append("object")
            else:  # a model: an Enum or an object
                found = self._class(member, imports.get(member))
                cls = found[0] if found else None
                if cls is not None and any(
                        isinstance(b, ast.Name) and b.id == "Enum" for b in cls.bases):
                    enum = sorted({*(enum or []), *_enum_values(cls)})
                    kinds.append("enum")
                else:
                    kinds.append("object")
        kinds = sorted(set(kinds)) or ["any"]
        return Field("|".join(kinds), nullable, required, tuple(enum) if enum else None)


def _kwargs_method_url(tree: ast.Module) -> tuple[str, str] | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "_get_kwargs":
            for sub in ast.walk(node):
                if isinstance(sub, ast.Dict):
                    keys = [k.value if isinstance(k, ast.Constant) else None for k in sub.keys]
                    if "method" in keys and "url" in keys:
                        method = sub.values[keys.index("method")]
                        url = sub.values[keys.index("url")]
                        return (ast.literal_eval(method), _fstring(url))
    return None


def _query_params(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "_get_kwargs":
            for sub in ast.walk(node):
                if (isinstance(sub, ast.Assign) and len(sub.targets) == 1
                        and isinstance(sub.targets[0], ast.Subscript)
                        and isinstance(sub.targets[0].value, ast.Name)
                        and sub.targets[0].value.id == "params"
                        and isinstance(sub.targets[0].slice, ast.Constant)):
                    names.add(str(sub.targets[0].slice.value))
    return names


def _fstring(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return ast.unparse(node)


def _union_members(annotation: ast.expr) -> list[str]:
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return [annotation.value]  # a forward reference: "OrderDetailsAttributes"
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) in (
            "Union", "typing.Union", "Optional"):
        inner = annotation.slice
        elts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        out = [m for e in elts for m in _union_members(e)]
        return out + (["None"] if ast.unparse(annotation.value) == "Optional" else [])
    if isinstance(annotation, ast.BinOp):  # X | Y
        return _union_members(annotation.left) + _union_members(annotation.right)
    text = ast.unparse(annotation)
    return ["None" if text == "None" else text]


def _enum_values(cls: ast.ClassDef) -> tuple[str, ...]:
    values = [stmt.value.value for stmt in cls.body
              if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant)]
    return tuple(sorted(str(v) for v in values if v not in ("", None)))  # BlankEnum: not a value


def _model_imports(tree: ast.Module) -> dict[str, str]:
    """Class name -> model module, from `from ..models.x import X` (also under TYPE_CHECKING)."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("models."):
            for alias in node.names:
                out[alias.asname or alias.name] = node.module.split(".", 1)[1]
    return out


# ---------------------------------------------------------------------------------------------
# The comparison
def compare_fields(spec_fields: dict[str, Field], client_fields: dict[str, Field]) -> list[str]:
    lines = []
    for name in sorted(set(spec_fields) | set(client_fields)):
        s, c = spec_fields.get(name), client_fields.get(name)
        if s is None and c is not None:
            lines.append(f"added field `{name}`: {c.describe()}")
        elif c is None and s is not None:
            lines.append(f"removed field `{name}` (spec: {s.describe()})")
        elif s is not None and c is not None:
            lines += [f"`{name}`: {line}" for line in compare_field(s, c)]
    return lines


def compare_field(s: Field, c: Field) -> list[str]:
    lines = []
    if s.type != c.type:
        lines.append(f"retyped: spec {s.type} -> client {c.type}")
    if s.nullable != c.nullable:
        lines.append(f"nullability: spec {'nullable' if s.nullable else 'not nullable'} -> "
                     f"client {'nullable' if c.nullable else 'not nullable'}")
    if s.required != c.required:
        lines.append(f"required: spec {s.required} -> client {c.required}")
    if s.enum is not None and c.enum is not None and s.enum != c.enum:
        added = sorted(set(c.enum) - set(s.enum))
        removed = sorted(set(s.enum) - set(c.enum))
        if added:
            lines.append(f"enum values added: {', '.join(added)}")
        if removed:
            lines.append(f"enum values removed: {', '.join(removed)}")
    return lines


def build_report(spec: dict[str, Any], client: Client) -> Report:
    report = Report(client.version)
    ours, theirs = spec_operations(spec), client.operations()
    report.ops_added = [f"{op} ({theirs[op]})" for op in sorted(set(theirs) - set(ours))]
    report.ops_removed = [f"{op} ({ours[op]})" for op in sorted(set(ours) - set(theirs))]
    our_params, their_params = spec_query_parameters(spec), client.query_parameters()
    for op in sorted(set(our_params) & set(their_params)):
        lines = [f"query parameter added: `{n}`" for n in sorted(their_params[op] - our_params[op])]
        lines += [f"query parameter removed: `{n}`"
                  for n in sorted(our_params[op] - their_params[op])]
        if lines:
            report.params[op] = lines
    for name, schema in spec["components"]["schemas"].items():
        client_schema = client.schema(name)
        if client_schema is None:
            report.unmatched.append(name)
            continue
        mine = spec_schema(spec, schema)
        if isinstance(mine, Field) or isinstance(client_schema, Field):
            if isinstance(mine, Field) and isinstance(client_schema, Field):
                lines = compare_field(
                    Field("enum", False, False, mine.enum), client_schema)
            else:
                lines = ["retyped: spec "
                         f"{'enum' if isinstance(mine, Field) else 'object'} -> client "
                         f"{'enum' if isinstance(client_schema, Field) else 'object'}"]
        else:
            lines = compare_fields(mine, client_schema)
        report.schemas[name] = lines
    return report


# ---------------------------------------------------------------------------------------------
# Where the client comes from
def unpack(client: Path, workdir: Path) -> Path:
    """The `waldur_api_client` package directory of a directory or a wheel."""
    if client.is_file() and client.suffix == ".whl":
        with zipfile.ZipFile(client) as wheel:
            wheel.extractall(workdir)
        return workdir / "waldur_api_client"
    if (client / "waldur_api_client").is_dir():
        return client / "waldur_api_client"
    return client


def download(workdir: Path, pre: bool = False) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    *(["--pre"] if pre else []), "waldur-api-client", "-d", str(workdir)],
                   check=True)
    wheels = sorted(workdir.glob("waldur_api_client-*.whl"))
    if not wheels:
        raise SystemExit("pip download produced no waldur_api_client wheel")
    return wheels[-1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="api_drift", description=__doc__.split("\n\n")[0])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--client", type=Path, help="waldur_api_client directory or wheel")
    source.add_argument("--download", action="store_true", help="the newest client from PyPI")
    p.add_argument("--pre", action="store_true", help="with --download: pre-releases too")
    p.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    p.add_argument("--output", type=Path, help="also write the report here")
    p.add_argument("--fail-on-drift", action="store_true", help="exit 1 when anything differs")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="api-drift-") as tmp:
        workdir = Path(tmp)
        client_path = download(workdir, args.pre) if args.download else args.client
        package = unpack(client_path, workdir)
        if not (package / "models").is_dir():
            print(f"api_drift: no waldur_api_client package at {client_path}", file=sys.stderr)
            return 2
        spec = yaml.safe_load(args.spec.read_text(encoding="utf-8"))
        report = build_report(spec, Client(package))
    text = report.markdown()
    print(text, end="")
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    return 1 if args.fail_on_drift and report.drift else 0


if __name__ == "__main__":
    sys.exit(main())
