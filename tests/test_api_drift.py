"""tools/api_drift.py: the contract vs the published client's models and operations (no network).

Against the installed waldur-api-client (8.1.3) the report is the known one; against a copy of
it with seeded changes (a field added, one removed, one retyped, an enum value added, an
operation removed, a query parameter added and one removed) each change is reported, and
--fail-on-drift exits 1."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "marketplace-orders.yaml"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_drift", ROOT / "tools" / "api_drift.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["api_drift"] = module
    spec.loader.exec_module(module)
    return module


drift = _tool()


@pytest.fixture(scope="module")
def installed() -> Path:
    waldur_api_client = pytest.importorskip("waldur_api_client")
    return Path(waldur_api_client.__file__).parent


def report_for(package: Path):  # type: ignore[no-untyped-def]
    return drift.build_report(yaml.safe_load(SPEC.read_text()), drift.Client(package))


def test_installed_client_report_is_the_known_one(installed: Path) -> None:
    report = report_for(installed)
    assert report.client_version.startswith("8.1.3")
    # every operation of the spec is in the client and the other way round
    assert report.ops_added == [] and report.ops_removed == []
    assert report.params == {"HEAD /api/marketplace-orders/": ["query parameter removed: `field`"]}
    # what 8.1.3 types differently from the contract today (docs/contract-tests.md, "Drift
    # report"): a spec change or a client release changes this list, on purpose
    assert report.schemas["OrderDetails"] == [
        "`category_icon`: nullability: spec nullable -> client not nullable",
        "`new_cost_estimate`: retyped: spec number|string -> client string",
        "`offering_image`: nullability: spec nullable -> client not nullable",
        "removed field `offering_terms_of_service` (spec: string)",
        "`offering_thumbnail`: nullability: spec nullable -> client not nullable",
        "`plan`: nullability: spec nullable -> client not nullable",
    ]
    assert report.schemas["OrderCreateRequest"] == [
        "added field `slug`: string",
        "removed field `type` (spec: enum {Create, Restore, Terminate, Update})",
    ]
    for same in ("OrderState", "RequestTypes", "OrderUpdate", "OrderBackendIDRequest", "Status"):
        assert report.schemas[same] == [], same
    assert report_for(installed).markdown() == report.markdown()  # stable


def _synthetic_copy(installed: Path, tmp: Path) -> Path:
    """The client with every model file linked, a few replaced by edited copies."""
    package = tmp / "waldur_api_client"
    (package / "models").mkdir(parents=True)
    for path in (installed / "models").glob("*.py"):
        (package / "models" / path.name).symlink_to(path)
    api = package / "api" / "marketplace_orders"
    shutil.copytree(installed / "api" / "marketplace_orders", api)
    (api / "marketplace_orders_unlink.py").unlink()
    listing = api / "marketplace_orders_list.py"
    text = listing.read_text()
    assert '    params["query"] = query\n' in text and '    params["state"] = json_state\n' in text
    listing.write_text(text.replace('    params["query"] = query\n',
                                    '    params["query"] = query\n    params["search"] = query\n')
                       .replace('    params["state"] = json_state\n', ""))

    def edit(name: str, old: str, new: str) -> None:
        target = package / "models" / name
        text = target.read_text()  # the original, or the copy edited before
        assert old in text, (name, old)
        target.unlink()
        target.write_text(text.replace(old, new, 1))

    edit("order_details.py", "    offering: Union[Unset, str] = UNSET\n",
         "    offering: Union[Unset, str] = UNSET\n    priority: Union[None, Unset, int] = UNSET\n")
    edit("order_details.py", "    backend_id: Union[Unset, str] = UNSET\n", "")
    edit("order_details.py", "    output: Union[Unset, str] = UNSET\n",
         "    output: Union[Unset, bool] = UNSET\n")
    edit("order_state.py", '    REJECTED = "rejected"\n',
         '    REJECTED = "rejected"\n    ARCHIVED = "archived"\n')
    return package


def test_seeded_changes_are_each_reported(installed: Path, tmp_path: Path) -> None:
    before = report_for(installed)
    after = report_for(_synthetic_copy(installed, tmp_path))
    assert after.ops_removed == [
        "POST /api/marketplace-orders/{}/unlink/ (marketplace_orders_unlink)"]
    assert after.ops_added == []
    assert after.params["GET /api/marketplace-orders/"] == [
        "query parameter added: `search`", "query parameter removed: `state`"]
    new = [line for line in after.schemas["OrderDetails"]
           if line not in before.schemas["OrderDetails"]]
    assert new == [
        "removed field `backend_id` (spec: string)",
        "`output`: retyped: spec string -> client boolean",
        "added field `priority`: integer | null",
        "`state`: enum values added: archived",
    ]
    assert after.schemas["OrderState"] == ["enum values added: archived"]
    text = after.markdown()
    assert "- not in the client (removed?): `POST /api/marketplace-orders/{}/unlink/" in text
    assert "### OrderState\n- enum values added: archived" in text


def test_cli_exit_codes(installed: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "report.md"
    assert drift.main(["--client", str(installed), "--output", str(out)]) == 0
    assert drift.main(["--client", str(installed), "--fail-on-drift"]) == 1
    assert out.read_text().startswith("# API drift: the contract vs waldur-api-client 8.1.3")
    assert drift.main(["--client", str(tmp_path / "nothing-here")]) == 2
    capsys.readouterr()
