"""Installable anywhere (issue 12). The sdist and the wheel (built from the sdist, as `python -m
build` does) carry every file read at run time; the wheel, installed into a fresh virtualenv
outside the checkout, works from a temporary directory: `--version`, Swagger UI, and every `run:`
step of the CI example docs/examples/github-actions.yml: serve, a 200 list with a fixture token,
`waldur-contract --quick --read-only` against the served stub to a pass (JUnit: 0 failures), and a
throw-away pytest project whose test uses the `waldur_mock` fixture to create and approve an order.
(The mutating in-process `--quick` run is tests/test_contract_quick.py: the same code, not rerun
here, to keep this test near a minute.)

Fast: the wheel is built without build isolation; the virtualenv gets no pip of its own from
ensurepip and no bytecode compilation; the dependencies come from a wheelhouse next to the test
run's interpreter (downloaded once per virtualenv, offline after that).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from tests.served import alive, free_port, served, stop

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mockserver", "contract_tests")
SOURCES = ("pyproject.toml", "README.md", *PACKAGES)
WORKFLOW = ROOT / "docs" / "examples" / "github-actions.yml"
EXAMPLE_TEST = ROOT / "docs" / "examples" / "test_orders_with_waldur_mock.py"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
TIMINGS: dict[str, float] = {}


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
    kwargs.setdefault("timeout", 300)
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def runtime_files() -> list[str]:
    """Every file of the packages that is not Python source: all of it is read at run time."""
    out = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if "__pycache__" in path.parts or path.suffix in (".py", ".pyc"):
                continue
            if path.is_file():
                out.append(path.relative_to(ROOT).as_posix())
    return sorted(out)


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel): the sdist from a copy of the sources, the wheel from the unpacked sdist."""
    started = time.monotonic()
    tmp = tmp_path_factory.mktemp("dist")
    src = tmp / "src"
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy(source, src / name)
    out = tmp / "out"
    out.mkdir()
    build = "import sys; from setuptools import build_meta as b; print(getattr(b, sys.argv[1])(sys.argv[2]))"  # noqa: E501

    def built(hook: str, where: Path) -> Path:
        done = run([sys.executable, "-c", build, hook, str(out)], cwd=where)
        return out / done.stdout.split()[-1]

    sdist = built("build_sdist", src)
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp / "unpacked", filter="data")
    unpacked = next((tmp / "unpacked").iterdir())
    wheel = built("build_wheel", unpacked)
    TIMINGS["build sdist + wheel"] = time.monotonic() - started
    return sdist, wheel


def wheelhouse() -> Path:
    """Wheels of the dependencies, kept beside the interpreter running the tests."""
    return Path(sys.prefix) / "wheelhouse"


@dataclass
class Venv:
    root: Path
    wheel: Path
    wheelhouse: Path
    work: Path  # a temporary directory outside the checkout

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment: this venv first on PATH, nothing of the checkout's."""
        env = {"PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
               "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
               # the example's `pip install` takes the wheelhouse, offline
               "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(self.wheelhouse),
               "PIP_NO_COMPILE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        env.update(extra)
        return env


def fresh_venv(root: Path, house: Path, *requirements: str) -> Path:
    """A virtualenv with `requirements` installed offline from `house`, without ensurepip (its
    compiled pip costs seconds) or bytecode compilation: the test run's pip installs into it."""
    run([sys.executable, "-m", "venv", "--without-pip", str(root)])
    run([sys.executable, "-m", "pip", "--python", str(root / "bin" / "python"), "install", "-q",
         "--no-compile", "--no-index", "--find-links", str(house), *requirements])
    return root


@pytest.fixture(scope="module")
def house(dists: tuple[Path, Path]) -> Path:
    """The wheelhouse, with every wheel the tests install (fetched once per test virtualenv)."""
    _, wheel = dists
    house = wheelhouse()
    wanted = [f"{wheel}[contract]", "pip", "pytest"]
    check = [sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed",
             "--no-index", "--find-links", str(house), *wanted]
    if subprocess.run(check, capture_output=True, timeout=300).returncode != 0:
        started = time.monotonic()
        run([sys.executable, "-m", "pip", "download", "-q", "-d", str(house), *wanted])
        for own in house.glob("waldur_orders_mock-*"):
            own.unlink()
        TIMINGS["download wheelhouse (once)"] = time.monotonic() - started
    return house


@pytest.fixture(scope="module")
def venv(dists: tuple[Path, Path], house: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """The wheel with the `contract` extra in a fresh virtualenv."""
    _, wheel = dists
    work = tmp_path_factory.mktemp("work")
    assert ROOT not in work.parents
    started = time.monotonic()
    root = fresh_venv(tmp_path_factory.mktemp("venv") / "v", house, f"{wheel}[contract]")
    TIMINGS["venv + install"] = time.monotonic() - started
    return Venv(root, wheel, house, work)


def test_sdist_and_wheel_carry_every_runtime_file(dists: tuple[Path, Path]) -> None:
    sdist, wheel = dists
    files = runtime_files()
    assert "mockserver/openapi/marketplace-orders.yaml" in files
    assert "contract_tests/schemathesis.toml" in files
    with tarfile.open(sdist) as tar:
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    with zipfile.ZipFile(wheel) as whl:
        in_wheel = set(whl.namelist())
        metadata = whl.read(f"waldur_orders_mock-{VERSION}.dist-info/METADATA").decode()
    assert not set(files) - in_sdist
    assert not set(files) - in_wheel
    assert "License-Expression: MIT" in metadata
    assert re.search(r"^Requires-Dist: jsonschema-rs", metadata, re.M)
    assert re.search(r"^Requires-Dist: schemathesis.*extra == \"contract\"", metadata, re.M)


def test_the_installed_package_runs_outside_the_checkout(venv: Venv) -> None:
    code = "import mockserver, contract_tests; print(mockserver.__file__, contract_tests.__file__)"
    where = run([str(venv.bin / "python"), "-c", code], cwd=venv.work, env=venv.env())
    where = where.stdout.split()
    assert all(Path(p).is_relative_to(venv.root) for p in where), where
    api = yaml.safe_load((ROOT / "openapi" / "marketplace-orders.yaml").read_text())["info"]
    for prog in ("waldur-mock", "waldur-contract"):
        out = run([str(venv.bin / prog), "--version"], cwd=venv.work, env=venv.env()).stdout
        assert out == (f"{prog} {VERSION} (Waldur API {api['x-waldur-api-version']}, "
                       f"contract {api['version']})\n")


def test_the_installed_stub_serves_swagger_ui(venv: Venv) -> None:
    port = free_port()
    command = [str(venv.bin / "waldur-mock"), "serve", "--port", str(port),
               "--log-level", "warning"]
    with served(command, port, log=venv.work / "swagger.log", cwd=venv.work, env=venv.env()) as url:
        page = httpx.get(f"{url}/api/docs/", follow_redirects=True, timeout=10)
        assert page.status_code == 200 and "swagger-ui" in page.text
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page.text)
        assert assets, page.text[:500]
        for asset in assets:
            reply = httpx.get(httpx.URL(str(page.url)).join(asset), timeout=10)
            assert reply.status_code == 200 and reply.content, asset


# -- the CI example -------------------------------------------------------------------------------
def workflow_steps() -> list[tuple[str, dict, list[dict]]]:
    """(job name, job env, steps) of the example workflow, in order."""
    doc = yaml.safe_load(WORKFLOW.read_text())
    return [(name, job.get("env") or {}, job["steps"]) for name, job in doc["jobs"].items()]


def test_the_ci_example_is_plain_shell() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert set(doc["env"]) >= {"WALDUR_MOCK_WHEEL", "WALDUR_MOCK_PORT"}
    runs = [step["run"] for _, _, steps in workflow_steps() for step in steps if "run" in step]
    assert runs and not any("${{" in r for r in runs)  # else this test could not run them


def test_the_ci_example_runs_against_the_wheel(
    dists: tuple[Path, Path], house: Path, tmp_path: Path
) -> None:
    """Every `run:` step of every job, in order, as GitHub Actions would (bash -eo pipefail,
    $GITHUB_ENV between steps, `if: always()` steps after a failure). Each job gets what a runner
    gives it: a fresh virtualenv with only pip (its own install step installs the rest, offline
    from the wheelhouse) and a checkout of "your project" holding the example test that uses the
    `waldur_mock` fixture. So the fixture job proves the base install (no extra) is enough."""
    _, wheel = dists
    doc = yaml.safe_load(WORKFLOW.read_text())
    overrides = {"WALDUR_MOCK_WHEEL": wheel.as_uri(), "WALDUR_MOCK_PORT": str(free_port())}
    started = time.monotonic()
    pids: list[int] = []
    try:
        for name, job_env, steps in workflow_steps():
            venv = Venv(fresh_venv(tmp_path / f"{name}-venv", house, "pip"), wheel, house,
                        tmp_path / name)
            checkout = venv.work
            (checkout / "tests").mkdir(parents=True)
            shutil.copy(EXAMPLE_TEST, checkout / "tests" / EXAMPLE_TEST.name)
            github_env = tmp_path / f"{name}.env"
            github_env.write_text("")
            failed: str | None = None
            for step in steps:
                if "run" not in step or (failed and step.get("if") != "always()"):
                    continue
                exported = dict(line.split("=", 1) for line in github_env.read_text().splitlines()
                                if "=" in line)
                layers = [doc.get("env") or {}, job_env, step.get("env") or {}, exported,
                          overrides, {"GITHUB_ENV": github_env, "CI": "true"}]
                env = venv.env(**{k: str(v) for layer in layers for k, v in layer.items()})
                step_started = time.monotonic()
                done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                       step["run"]], cwd=checkout, env=env, capture_output=True,
                                      text=True, timeout=300)
                label = f"{name}: {step.get('name', step['run'][:30])}"
                TIMINGS[label] = time.monotonic() - step_started
                if "WALDUR_MOCK_PID" in github_env.read_text():
                    pids.append(int(github_env.read_text().split("WALDUR_MOCK_PID=")[1].split()[0]))
                if done.returncode != 0 and failed is None:
                    failed = (f"job {name}, step {step.get('name', step['run'][:60])!r} exited "
                              f"{done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
            assert failed is None, failed
            if name == "against-the-stub":
                report = (checkout / "reports" / "contract.xml").read_text()
                assert 'failures="0"' in report and 'errors="0"' in report, report[:2000]
    finally:
        for pid in pids:
            if alive(pid):
                stop(pid)
    TIMINGS["CI example (both jobs)"] = time.monotonic() - started
    assert not any(alive(pid) for pid in pids), "the workflow's stop step left the stub running"
    print("\npackaging timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMINGS.items()))


def test_the_installed_harness_passes_quick_against_its_stub(venv: Venv) -> None:
    """`waldur-contract --quick` from the wheel, in a directory outside the checkout: the whole
    quick profile (mutating, every phase) against the installed package's in-process stub."""
    report = venv.work / "quick.xml"
    done = subprocess.run(
        [str(venv.bin / "waldur-contract"), "--quick", "--seed", "1", "--junit-xml", str(report)],
        cwd=venv.work, env=venv.env(), capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    xml = report.read_text()
    assert 'failures="0"' in xml and 'errors="0"' in xml, xml[:500]
    assert re.search(r'tests="[1-9]', xml), xml[:500]
