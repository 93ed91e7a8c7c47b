"""Run the published waldur-site-agent (with its SLURM plugin and the SLURM emulator) against a
served stub: its virtualenv (cached, keyed on the pinned versions), its config, the emulator's
state directory, and one pass of a mode, ended with SIGINT once the pass is over.

The agent pins an older waldur-api-client than the stub's, so it lives in a virtualenv of its
own, outside the repository: $WALDUR_MOCK_AGENT_VENV, else ~/.cache/waldur-orders-mock/.
Without network (PyPI unreachable) the install fails and the tests skip, saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

# The versions the end-to-end tests were written against (docs/site-agent.md).
AGENT_PACKAGES = ("waldur-site-agent==1.0.7", "waldur-site-agent-slurm==1.0.7",
                  "slurm-emulator==0.9.10")
INSTALL_TIMEOUT = 600.0
# The agent writes its liveness heartbeat here (waldur_site_agent.common.healthz), the time of
# the write as text: at the start of each offering and again when a pass is over.
HEARTBEAT = Path("/tmp/waldur-site-agent-heartbeat")  # noqa: S108 - the agent's fixed path
QUIET_SECONDS = 1.0  # a pass is over: heartbeat newer than the last log line, and silence
SLURM_COMPONENTS = {
    "cpu": {"measured_unit": "hours", "unit_factor": 60, "accounting_type": "limit",
            "label": "CPU"},
    # the emulator knows no "ram" TRES: map it onto "mem"
    "ram": {"measured_unit": "GB-hours", "unit_factor": 1, "accounting_type": "limit",
            "label": "RAM", "target_components": {"mem": {"factor": 1024}}},
}


class AgentUnavailable(RuntimeError):
    """The agent could not be installed (no network?): the tests skip with this message."""


def venv_dir() -> Path:
    key = hashlib.sha256("\n".join(AGENT_PACKAGES).encode()).hexdigest()[:12]
    root = os.environ.get("WALDUR_MOCK_AGENT_VENV")
    if root:
        return Path(root)
    return Path.home() / ".cache" / "waldur-orders-mock" / f"site-agent-{key}"


def ensure_agent_venv() -> Path:
    """The agent's virtualenv, created (about 1-3 minutes) when missing or incomplete."""
    venv = venv_dir()
    marker = venv / ".installed"
    if marker.is_file() and marker.read_text() == "\n".join(AGENT_PACKAGES):
        return venv
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    python = shutil.which("python3.11") or sys.executable
    try:
        subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True,
                       timeout=120)
        # few retries, short timeouts: offline, fail (and skip) in seconds, not minutes
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "--retries", "1", "--timeout", "20",
                        *AGENT_PACKAGES],
                       check=True, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(venv, ignore_errors=True)
        tail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
        raise AgentUnavailable(
            "could not install the site agent from PyPI (offline?): "
            + " | ".join(tail)) from None
    except subprocess.TimeoutExpired:
        shutil.rmtree(venv, ignore_errors=True)
        raise AgentUnavailable("installing the site agent from PyPI timed out") from None
    marker.write_text("\n".join(AGENT_PACKAGES))
    return venv


def agent_config(stub_url: str, token: str, offering_uuid: str, bin_dir: Path
                 ) -> dict[str, Any]:
    """The agent's documented SLURM configuration for the default fixtures (docs/daily-use.md)."""
    return {
        "timezone": "UTC",
        "offerings": [{
            "name": "Reference SLURM offering",
            "waldur_api_url": f"{stub_url}/api/",
            "waldur_api_token": token,
            "waldur_offering_uuid": offering_uuid,
            "stomp_enabled": False,
            "backend_type": "slurm",
            "order_processing_backend": "slurm",
            "membership_sync_backend": "slurm",
            "reporting_backend": "slurm",
            "backend_settings": {
                "slurm_bin_path": str(bin_dir), "default_account": "root",
                "customer_prefix": "c_", "project_prefix": "p_", "allocation_prefix": "a_",
                "qos_default": "normal", "enable_user_homedir_account_creation": False,
            },
            "backend_components": SLURM_COMPONENTS,
        }],
    }


@dataclass
class AgentRun:
    mode: str
    returncode: int | None
    log: str
    records: list[dict[str, Any]] = field(default_factory=list)
    finished: bool = False  # the pass was over before the agent was stopped
    seconds: float = 0.0

    def events(self, level: str | None = None) -> list[str]:
        return [r.get("event", "") for r in self.records
                if level is None or r.get("level") == level]

    @property
    def errors(self) -> list[str]:
        """Error-level records and tracebacks other than the one SIGINT prints."""
        found = [r.get("event", "") for r in self.records
                 if r.get("level") in ("error", "critical", "exception")]
        found += [r.get("exception", "")[:300] for r in self.records
                  if r.get("exception") and r.get("level") not in ("error", "critical")]
        return found


@dataclass
class AgentSite:
    """The agent's world: its venv, a work dir with config + emulator state."""

    venv: Path
    workdir: Path
    config: dict[str, Any]

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV",
                                                                       "PYTHON"))}
        env.update({
            "SLURM_EMULATOR_STATE_FILE": str(self.workdir / "emulator" / "db.json"),
            "SLURM_EMULATOR_TIME_FILE": str(self.workdir / "emulator" / "time.json"),
            "SLURM_EMULATOR_FS_ROOT": str(self.workdir / "emulator" / "fs"),
            "PATH": f"{self.bin}:{env.get('PATH', '')}",
        })
        return env

    def write_config(self) -> Path:
        (self.workdir / "emulator").mkdir(parents=True, exist_ok=True)
        path = self.workdir / "config.yaml"
        path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        return path

    # -- the emulator --------------------------------------------------------------------------

    def sacctmgr(self, *args: str) -> str:
        out = subprocess.run([str(self.bin / "sacctmgr"), "--immediate", *args], env=self.env,
                             capture_output=True, text=True, timeout=60)
        return out.stdout + out.stderr

    def emulator(self, *commands: str) -> str:
        """Commands of the emulator's own shell (time_set, usage_inject, ...)."""
        script = "\n".join([*commands, "quit"]) + "\n"
        out = subprocess.run([str(self.bin / "slurm-emulator")], input=script, env=self.env,
                             capture_output=True, text=True, timeout=60)
        return out.stdout + out.stderr

    def emulator_state(self) -> dict[str, Any]:
        path = self.workdir / "emulator" / "db.json"
        return json.loads(path.read_text()) if path.exists() else {}

    # -- running the agent -------------------------------------------------------------------

    def run(self, mode: str, timeout: float = 90.0, env: dict[str, str] | None = None
            ) -> AgentRun:
        """One pass of `mode`, then SIGINT (the agent has no run-once flag). The pass is over
        when the agent's heartbeat is newer than its last log line and it has been silent for
        QUIET_SECONDS; `timeout` bounds it (then `finished` is False)."""
        config = self.write_config()
        log_path = self.workdir / f"agent-{mode}-{time.monotonic_ns()}.log"
        HEARTBEAT.unlink(missing_ok=True)
        start = time.monotonic()
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [str(self.bin / "waldur_site_agent"), "-m", mode, "-c", str(config)],
                cwd=self.workdir, env={**self.env, **(env or {})}, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        finished = False
        try:
            finished = _wait_for_pass_end(proc, log_path, start + timeout)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            HEARTBEAT.unlink(missing_ok=True)
        text = log_path.read_text()
        return AgentRun(mode, proc.returncode, text, parse_log(text), finished,
                        time.monotonic() - start)


def parse_log(text: str) -> list[dict[str, Any]]:
    records = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def _last_log_time(log_path: Path) -> tuple[float | None, bool]:
    """(the time of the last JSON log line, whether the processor has started)."""
    records = parse_log(log_path.read_text())
    started = any(str(r.get("event", "")).startswith("Processing offering") or
                  str(r.get("event", "")).startswith("Number of offerings") for r in records)
    for record in reversed(records):
        stamp = record.get("timestamp")
        if stamp:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp(), started
    return None, started


def _wait_for_pass_end(proc: subprocess.Popen[bytes], log_path: Path, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        time.sleep(0.25)
        last, started = _last_log_time(log_path)
        if not started or last is None or not HEARTBEAT.exists():
            continue
        try:
            beat = float(HEARTBEAT.read_text() or 0)
        except (OSError, ValueError):
            continue
        if beat > last and time.time() - max(beat, last) >= QUIET_SECONDS:
            return True
    return False
