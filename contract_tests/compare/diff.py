"""Differences between the real server's and the stub's answer to the same step.

What is compared: the status code; the media type; an error body exactly (after the side's own
uuids, URLs and times are replaced by names, see `Side.normalise`); a success body's structure
(the set of keys at every level, null vs a value, the JSON type) and the values of the few keys
whose value is the same on both sides by construction (`VALUE_KEYS`); `WWW-Authenticate` and
(on 405 answers) `Allow` exactly; for lists, the result count, the `Link` relations and the
scenario's own orders in the page.
Each difference has a stable key (`step kind where`), the unit of the baseline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contract_tests.target import Reply

# keys whose values do not depend on the deployment (ids, names, times and users do)
VALUE_KEYS = frozenset({
    "state", "type", "detail", "status", "error_message", "error_traceback", "backend_id",
    "can_terminate", "consumer_rejection_comment", "provider_rejection_comment",
    "offering_type", "attributes",
})
_REL = re.compile(r'rel="?([a-z]+)"?')
# headers compared exactly where either side sends them; `Allow` only on 405 answers (DRF
# sends it on every answer, the stub only on 405: one known difference, not one per step)
HEADERS = ("www-authenticate", "allow")


@dataclass(frozen=True)
class Difference:
    step: str
    kind: str  # status, media-type, error-body, body, keys, null, type, value, header, items
    where: str  # a JSON path ($.a.b) or a header name; "" for the whole answer
    real: str
    stub: str

    @property
    def key(self) -> str:
        return " ".join(part for part in (self.step, self.kind, self.where) if part)

    def line(self) -> str:
        return f"{self.key}: real {self.real} | stub {self.stub}"


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)


def media_type(reply: Reply) -> str:
    return reply.headers.get("content-type", "").split(";")[0].strip().lower()


def parse(reply: Reply) -> tuple[bool, Any]:
    try:
        return True, json.loads(reply.content) if reply.content else None
    except ValueError:
        return False, reply.content.decode("utf-8", "replace")


def short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


Normalise = Callable[[str], str]
Names = Callable[[Any], str | None]


def compare(
    step: Any,
    real: Reply,
    stub: Reply,
    norm_real: Normalise,
    norm_stub: Normalise,
    names_real: Names,
    names_stub: Names,
    counts: bool = True,
) -> list[Difference]:
    """`counts=False`: the real project held other orders, so list counts, links and items say
    nothing about fidelity; only the items' structure is compared."""
    out: list[Difference] = []

    def add(kind: str, where: str, r: Any, s: Any) -> None:
        out.append(Difference(step.name, kind, where, short(r), short(s)))

    if real.status != stub.status:
        add("status", "", real.status, stub.status)
        if (real.status < 300) != (stub.status < 300):
            return out  # one side failed: its body says nothing about the other's
    if (real.content or stub.content) and media_type(real) != media_type(stub):
        add("media-type", "", media_type(real) or "-", media_type(stub) or "-")
    for header in HEADERS:
        if header == "allow" and 405 not in (real.status, stub.status):
            continue
        hr, hs = real.headers.get(header, "absent"), stub.headers.get(header, "absent")
        if hr != hs:
            add("header", header, hr, hs)
    ok_r, body_r = parse(real)
    ok_s, body_s = parse(stub)
    if real.status >= 300 or stub.status >= 300:
        text_r = norm_real(json.dumps(body_r, sort_keys=True) if ok_r else body_r)
        text_s = norm_stub(json.dumps(body_s, sort_keys=True) if ok_s else body_s)
        if text_r != text_s:
            add("error-body", "", text_r, text_s)
        return out
    if step.method == "HEAD" or isinstance(body_r, list) or isinstance(body_s, list):
        out.extend(_compare_list(step, (real, stub), (body_r, body_s), (norm_real, norm_stub),
                                 (names_real, names_stub), counts))
        return out
    if (body_r is None) != (body_s is None):
        add("body", "", "empty" if body_r is None else "JSON",
            "empty" if body_s is None else "JSON")
        return out
    _structure(out, step.name, "$", body_r, body_s, norm_real, norm_stub)
    return out


def _structure(out: list[Difference], step: str, path: str, r: Any, s: Any,
               norm_r: Normalise, norm_s: Normalise, key: str = "") -> None:
    if key in VALUE_KEYS:
        vr, vs = norm_r(json.dumps(r, sort_keys=True)), norm_s(json.dumps(s, sort_keys=True))
        if vr != vs:
            out.append(Difference(step, "value", path, short(vr), short(vs)))
        return
    kr, ks = kind_of(r), kind_of(s)
    if kr != ks:
        kind = "null" if "null" in (kr, ks) else "type"
        out.append(Difference(step, kind, path, kr, ks))
        return
    if kr == "object":
        for name in sorted(set(r) | set(s)):
            where = f"{path}.{name}"
            if name not in s:
                out.append(Difference(step, "keys", where, "present", "absent"))
            elif name not in r:
                out.append(Difference(step, "keys", where, "absent", "present"))
            else:
                _structure(out, step, where, r[name], s[name], norm_r, norm_s, name)
    elif kr == "array" and r and s:
        _structure(out, step, f"{path}[0]", r[0], s[0], norm_r, norm_s)


def _rels(reply: Reply) -> str:
    return ",".join(sorted(set(_REL.findall(reply.headers.get("link", ""))))) or "-"


def _compare_list(step: Any, replies: tuple[Reply, Reply], bodies: tuple[Any, Any],
                  norms: tuple[Normalise, Normalise], names: tuple[Names, Names],
                  counts: bool = True) -> list[Difference]:
    out: list[Difference] = []
    real, stub = replies
    body_r, body_s = bodies
    names_r, names_s = names
    if not counts:
        if isinstance(body_r, list) and isinstance(body_s, list):
            _same_order_structure(out, step.name, body_r, body_s, norms, names)
        return out
    for header in ("x-result-count",):
        hr, hs = real.headers.get(header, "absent"), stub.headers.get(header, "absent")
        if hr != hs:
            out.append(Difference(step.name, "header", header, hr, hs))
    if _rels(real) != _rels(stub):
        out.append(Difference(step.name, "header", "link", _rels(real), _rels(stub)))
    if step.method == "HEAD":
        return out
    if kind_of(body_r) != kind_of(body_s):
        out.append(Difference(step.name, "type", "$", kind_of(body_r), kind_of(body_s)))
        return out
    mine_r = [n for n in map(names_r, body_r) if n]
    mine_s = [n for n in map(names_s, body_s) if n]
    if step.items == "count":
        got_r, got_s = str(len(body_r)), str(len(body_s))
    elif step.items == "sequence":
        got_r, got_s = ",".join(mine_r) or "-", ",".join(mine_s) or "-"
    else:
        got_r, got_s = ",".join(sorted(mine_r)) or "-", ",".join(sorted(mine_s)) or "-"
    if got_r != got_s:
        out.append(Difference(step.name, "items", step.items, got_r, got_s))
    _same_order_structure(out, step.name, body_r, body_s, norms, names)
    return out


def _same_order_structure(out: list[Difference], step: str, body_r: list[Any],
                          body_s: list[Any], norms: tuple[Normalise, Normalise],
                          names: tuple[Names, Names]) -> None:
    """The first scenario order in both pages: its structure must agree too."""
    names_r, names_s = names
    by_name_s = {names_s(item): item for item in body_s if names_s(item)}
    for item in body_r:
        name = names_r(item)
        if name and name in by_name_s:
            _structure(out, step, "$[]", item, by_name_s[name], *norms)
            return
