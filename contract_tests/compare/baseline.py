"""Accepted differences: a text file of difference keys, one a line (`#` starts a comment).

Keys name the step, the kind and the JSON path (`get-A-as-consumer keys $.foo`): they carry no
uuid, time or seed, so they survive reruns. A baseline entry no run produced any more is
"stale": reported, so the file shrinks when the stub (or the server) is fixed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from contract_tests.compare.diff import Difference

HEADER = (
    "# waldur-contract compare baseline: accepted differences between the stub and a server.\n"
    "# One key a line: '<step> <kind> <where>'. Written by --baseline-write; edit freely.\n"
)


def load(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")}


def write(path: Path, differences: Iterable[Difference]) -> None:
    keys = sorted({d.key for d in differences})
    path.write_text(HEADER + "".join(f"{k}\n" for k in keys), encoding="utf-8")


@dataclass
class Verdict:
    new: list[Difference]  # not in the baseline: these fail the run
    known: list[Difference]
    stale: list[str]  # baseline entries no difference matched


def judge(differences: list[Difference], baseline: set[str]) -> Verdict:
    seen = {d.key for d in differences}
    return Verdict(
        new=[d for d in differences if d.key not in baseline],
        known=[d for d in differences if d.key in baseline],
        stale=sorted(baseline - seen),
    )
