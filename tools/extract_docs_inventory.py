"""Extract the machine-readable facts of the Marketplace Orders documentation page.

Reads the page (default: ../shared/docs/marketplace-orders-api.md next to the repository, or the
path given as the first argument) and writes openapi/docs-inventory.yaml: every operation with its
method, path and operationId, its parameters, request body fields and responses, with the page's
documented types and constraints. Only facts are kept, never the page's sentences, and the output is
deterministic so that regenerating it gives the same bytes.

Usage: python tools/extract_docs_inventory.py [PAGE] [--output PATH] [--check]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PAGE = REPO.parent / "shared" / "docs" / "marketplace-orders-api.md"
DEFAULT_OUTPUT = REPO / "openapi" / "docs-inventory.yaml"
HEADER = (
    "# Facts extracted from the Marketplace Orders API documentation page by\n"
    "# tools/extract_docs_inventory.py. Do not edit by hand: regenerate it.\n"
)

_SUMMARY_ROW = re.compile(
    r"^\|\s*<span[^>]*>(?P<method>[A-Z]+)</span>\s*\|\s*`(?P<path>[^`]+)`\s*\|"
    r"\s*\[[^\]]*\]\(#(?P<anchor>[^)]+)\)\s*\|\s*$"
)
_OPERATION_ID = re.compile(r"\*\*API Source:\*\*\s*\[`(?P<op>[a-z_]+)`\]")
_TAB = re.compile(r'^=== "(?P<name>[^"]+)"\s*$')
_STATUS = re.compile(r"^\*\*`(?P<code>\d{3})`\*\*\s*-\s*(?P<rest>.*)$")
_CONSTRAINTS = re.compile(r"_Constraints:\s*(?P<items>(?:[^_`]|`[^`]*`)+)_")
_ENUM = re.compile(r"_Enum:\s*(?P<items>(?:[^_`]|`[^`]*`)+)_")
_CODE = re.compile(r"`([^`]*)`")


def _anchor(title: str) -> str:
    """The mkdocs anchor of a heading: lower case, punctuation dropped, spaces to dashes."""
    slug = re.sub(r"[^\w\s-]", "", title.lower())
    return re.sub(r"\s+", "-", slug.strip())


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables(lines: list[str]) -> list[tuple[list[str], list[list[str]]]]:
    """Markdown tables in `lines` as (header, rows)."""
    tables: list[tuple[list[str], list[list[str]]]] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.startswith("|") and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", nxt):
            header = [c.strip("`").lower() for c in _cells(line)]
            rows = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            tables.append((header, rows))
        else:
            i += 1
    return tables


def _field(header: list[str], row: list[str]) -> dict[str, Any]:
    """One table row as facts: name, type, required and the constraints found in the description."""
    cols = dict(zip(header, row, strict=False))
    name = (cols.get("name") or cols.get("field") or "").strip("`")
    fact: dict[str, Any] = {"name": name, "type": cols.get("type", "")}
    if "required" in cols:
        fact["required"] = cols["required"] == "✓"
    description = cols.get("description", "")
    if "separated by commas" in description:
        fact["multi_value"] = "comma-separated"
    enum = _ENUM.search(description)
    if enum:
        fact["enum"] = _CODE.findall(enum.group("items"))
    constraints = _CONSTRAINTS.search(description)
    if constraints:
        for item in constraints.group("items").split(","):
            item = item.strip()
            if item == "write-only":
                fact["write_only"] = True
            elif item == "read-only":
                fact["read_only"] = True
            elif item.startswith("default:"):
                fact["default"] = _CODE.findall(item)[0]
            elif item:
                fact.setdefault("constraints", []).append(item)
    return fact


def _split_tabs(lines: list[str]) -> dict[str, list[str]]:
    tabs: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        m = _TAB.match(line)
        if m:
            current = tabs.setdefault(m.group("name"), [])
        elif current is not None:
            current.append(line)
    return tabs


def _responses(lines: list[str]) -> list[dict[str, Any]]:
    responses: list[dict[str, Any]] = []
    chunk: list[str] = []
    current: dict[str, Any] | None = None

    def close() -> None:
        if current is None:
            return
        fields = [_field(h, r) for h, rows in _tables(chunk) for r in rows]
        if fields:
            current["fields"] = fields
        responses.append(current)

    for line in lines:
        m = _STATUS.match(line.strip())
        if m:
            close()
            chunk = []
            current = {"code": int(m.group("code"))}
            if m.group("rest").strip() == "No response body":
                current["body"] = False
            continue
        if "response body is an array" in line and current is not None:
            current["array"] = True
        chunk.append(line)
    close()
    return responses


def extract(text: str) -> dict[str, Any]:
    """The page's facts as a plain, ordered structure."""
    summary: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        m = _SUMMARY_ROW.match(line.strip())
        if m:
            summary[m.group("anchor")] = (m.group("method"), m.group("path"))
    sections = re.split(r"^### ", text, flags=re.M)[1:]
    operations = []
    seen: set[str] = set()
    for section in sections:
        title, _, body = section.partition("\n")
        key = _anchor(title)
        seen.add(key)
        if key not in summary:
            continue
        method, path = summary[key]
        op_match = _OPERATION_ID.search(body)
        if not op_match:
            raise ValueError(f"no operationId in section {title!r}")
        tabs = _split_tabs(body.splitlines())
        op: dict[str, Any] = {
            "operation_id": op_match.group("op"),
            "method": method,
            "path": path,
        }
        for tab, key_name in (("Path Parameters", "path_parameters"),
                              ("Query Parameters", "query_parameters")):
            if tab in tabs:
                op[key_name] = [_field(h, r) for h, rows in _tables(tabs[tab]) for r in rows]
        for tab in ("Request Body (required)", "Request Body"):
            if tab in tabs:
                op["request_body"] = {
                    "required": tab.endswith("(required)"),
                    "fields": [_field(h, r) for h, rows in _tables(tabs[tab]) for r in rows],
                }
        op["responses"] = _responses(tabs.get("Responses", []))
        operations.append(op)
    if len(operations) != len(summary):
        missing = sorted(set(summary) - seen)
        raise ValueError(f"operations in the summary without a section: {missing}")
    return {"operations": operations}


def render(inventory: dict[str, Any]) -> str:
    body = yaml.safe_dump(inventory, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="?", type=Path, default=DEFAULT_PAGE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="fail if the output file is stale")
    args = parser.parse_args(argv)
    inventory = extract(args.page.read_text(encoding="utf-8"))
    text = render(inventory)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale; rerun tools/extract_docs_inventory.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(inventory['operations'])} operations)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
