"""The `waldur-mock serve` options of the control features, kept here so that cli.py only adds
them to its parser and passes them into Settings."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def process_delay(text: str) -> float | None:
    """`--process-delay`: seconds (0 = at once) or `manual` (never by itself)."""
    if text.strip().lower() == "manual":
        return None
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected seconds (e.g. 0, 1.5) or 'manual', got {text!r}") from None
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return seconds


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("daily use (docs/daily-use.md)")
    group.add_argument("--no-control", dest="control", action="store_false", default=True,
                       help="switch the /__mock__/ control API off (for a stub shared on a "
                            "network)")
    group.add_argument("--cors-origin", dest="cors_origins", action="append", metavar="ORIGIN",
                       help="allow browser apps from this origin (repeatable; default: any)")
    group.add_argument("--process-delay", type=process_delay, default=0.0, metavar="SECONDS",
                       help="seconds until the stub completes an executing order that the real "
                            "server processes by itself (Marketplace.Basic); 0 = at once "
                            "(default), 'manual' = never by itself")
    group.add_argument("--state-file", type=Path, metavar="PATH",
                       help="load the state from PATH at start if it exists; save it there on "
                            "shutdown and on POST /__mock__/save")
    group.add_argument("--state-flush-interval", type=float, default=0.05, metavar="SECONDS",
                       help="with --state-file: accepted changes are on disk within this many "
                            "seconds (journal, fsync'ed; default 0.05)")
    group.add_argument("--journal-size", type=positive_int, default=1000, metavar="N",
                       help="requests kept per session by GET /__mock__/requests "
                            "(default 1000)")


def settings_kwargs(args: argparse.Namespace, extra: dict[str, Any] | None = None) -> dict:
    """Settings(...) keyword arguments from the parsed options."""
    return {
        "control": args.control,
        "cors_origins": tuple(args.cors_origins or ("*",)),
        "process_delay": args.process_delay,
        "state_file": args.state_file,
        "extra": {**(extra or {}), "journal_size": args.journal_size,
                  "state_flush_interval": args.state_flush_interval},
    }
