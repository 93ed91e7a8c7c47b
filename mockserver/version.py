"""What `--version` prints, each part from its one source: the package version from the installed
metadata (pyproject.toml's `version`), the Waldur API version the contract follows from the spec
(`info.x-waldur-api-version`) and the contract's own version (`info.version`)."""

from __future__ import annotations

import argparse
from typing import Any

DISTRIBUTION = "waldur-orders-mock"


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # ~20 ms: only when asked

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # a checkout on sys.path without an install
        return "0+unknown"


def api_versions() -> tuple[str, str]:
    """(Waldur API version, contract version) from the orders contract's `info`."""
    from mockserver.spec import SPEC_PATH, load_spec

    info = load_spec(SPEC_PATH)["info"]
    return str(info["x-waldur-api-version"]), str(info["version"])


def version_text(prog: str) -> str:
    api, contract = api_versions()
    return f"{prog} {package_version()} (Waldur API {api}, contract {contract})"


class VersionAction(argparse.Action):
    """`--version`, computed only when asked (reading the spec costs a few ms)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **_: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0,
                         help="print the package version and the Waldur API version, then exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(version_text(parser.prog))
        parser.exit()


def add_version_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action=VersionAction)
