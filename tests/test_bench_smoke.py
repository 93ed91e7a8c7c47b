"""Smoke test of benchmarks/: the code still runs, in a few seconds, with tiny sizes.

Not a benchmark (no timing is asserted). The wrk part and the stub-process part skip, saying
so, when wrk or `waldur-mock serve` are not available.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import (
    asgi,
    ceiling,
    connexion_cost,
    procs,
    report,
    scale,
    stub,
    throughput,
    wrk,
)
from benchmarks.__main__ import verdicts

TESTDATA = Path(__file__).resolve().parent.parent / "benchmarks" / "testdata"
LIST = "/api/marketplace-orders/"


def test_parses_a_recorded_wrk_latency_report() -> None:
    ok = wrk.parse((TESTDATA / "wrk_ok.txt").read_text())
    assert (ok.requests, ok.rps, ok.seconds) == (16479, 7850.17, 2.1)
    assert (ok.p50_ms, ok.p90_ms, ok.p99_ms) == (pytest.approx(0.773), 3.61, 6.95)
    assert ok.ok and ok.non_2xx == 0

    bad = wrk.parse((TESTDATA / "wrk_errors.txt").read_text())
    assert (bad.p50_ms, bad.p99_ms) == (198.0, 1200.0)
    assert (bad.non_2xx, bad.socket_errors, bad.ok) == (9, 5, False)


def test_wrk_units_and_garbage() -> None:
    assert [wrk.to_ms(x) for x in ("500.00us", "1.5ms", "2s", "1m")] == [0.5, 1.5, 2000, 60000]
    with pytest.raises(ValueError):
        wrk.parse("Running 1s test\n  no latency here")


def test_lua_script_quotes_headers_body_and_paths() -> None:
    body = '{"x": "a\\"b"}'
    lua = wrk.lua_script("POST", {"Authorization": "Token a"}, body, paths=["/a/", "/b/"])
    assert 'wrk.method = "POST"' in lua
    assert 'wrk.headers["Authorization"] = "Token a"' in lua
    assert 'wrk.body = "{\\"x\\": \\"a\\\\\\"b\\"}"' in lua
    assert 'local paths = {"/a/", "/b/"}' in lua and "wrk.format(nil, paths[i])" in lua


def test_wrk_refuses_non_loopback_targets() -> None:
    with pytest.raises(ValueError, match="loopback"):
        wrk.run("http://example.com/", "", duration=1)


def _captures() -> list[ceiling.Capture]:
    page = b'[{"uuid": "0123456789abcdef0123456789abcdef"}]'
    return [
        ceiling.Capture("GET", LIST, "", 200,
                        [("content-type", "application/json"), ("x-result-count", "1"),
                         ("content-length", "999"), ("date", "x")], page),
        ceiling.Capture("GET", LIST, "state=done", 200, [("content-type", "application/json")],
                        b"[]"),
        ceiling.Capture("POST", LIST, "", 201, [("location", "http://x/1/")], b"{}"),
    ]


def test_ceiling_replays_captured_bytes_in_process(tmp_path: Path) -> None:
    path = tmp_path / "captures.json"
    ceiling.save(_captures(), path)
    app = ceiling.create_app(ceiling.load(path))
    got = asgi.fetch(app, asgi.Req("GET", LIST))
    headers = dict(got.headers)
    assert got.status == 200 and got.body == _captures()[0].body
    assert headers[b"x-result-count"] == b"1" and headers[b"content-length"] != b"999"
    assert b"date" not in headers
    assert asgi.fetch(app, asgi.Req("GET", LIST, query="state=done")).body == b"[]"
    created = asgi.fetch(app, asgi.Req("POST", LIST, body=b"{}"))
    assert created.status == 201 and dict(created.headers)[b"location"] == b"http://x/1/"
    assert asgi.per_request_us(app, asgi.Req("GET", LIST), n=5) > 0


def test_scenarios_for_prism_use_dashed_uuids() -> None:
    sc = stub.Scenario("GET retrieve", "GET", f"{LIST}0123456789abcdef0123456789abcdef/?x=1")
    assert sc.dashed().path == f"{LIST}01234567-89ab-cdef-0123-456789abcdef/?x=1"
    assert sc.split == (f"{LIST}0123456789abcdef0123456789abcdef/", "x=1")


@pytest.mark.parametrize(
    "data",
    [
        {"alice": "k1", "staff": "k2"},
        {"users": [{"username": "alice", "token": "k1"}, {"username": "staff", "token": "k2"}]},
        [{"username": "a", "token": "k1", "is_staff": False},
         {"username": "b", "token": "k2", "is_staff": True, "role": "staff"}],
    ],
)
def test_pick_token_prefers_staff(data: object) -> None:
    assert stub.pick_token(data) == "k2"


def test_report_tables_machine_and_docs_section(tmp_path: Path) -> None:
    table = report.markdown_table([["a", "bb"], ["ccc", "d"]])
    assert table.splitlines() == ["| a   | bb |", "|-----|----|", "| ccc | d  |"]
    info = report.machine()
    assert info["nproc"] and info["python"].startswith("3.")
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Perf\n\nintro\n\n{report.BEGIN}\nold\n{report.END}\n\ntail\n")
    report.write_doc("new numbers", doc)
    text = doc.read_text()
    assert "new numbers" in text and "old" not in text and text.endswith("tail\n")


def test_tables_and_verdicts_from_results() -> None:
    def r(rps: float, p50: float) -> wrk.WrkResult:
        return wrk.WrkResult(100, 1.0, rps, p50, p50 * 2, p50 * 3)

    tp = throughput.Result(scenarios=["GET list", "GET retrieve"])
    tp.results = {
        throughput.STUB: {"GET list": r(1000, 1), "GET retrieve": r(1200, 1)},
        throughput.CEILING: {"GET list": r(2000, 1), "GET retrieve": r(4000, 1)},
        throughput.PRISM_STATIC: {"GET list": r(100, 9), "GET retrieve": r(400, 9)},
    }
    tp.cold_start = {throughput.STUB: 0.8}
    rps, lat = throughput.tables(tp)
    assert rps[1][-2:] == ["0.50", "10.00"] and rps[2][-2:] == ["0.30", "3.00"]
    assert lat[1][1] == "1.00 / 3.00"
    rows = [scale.Row(n, n, 0.5, mb, mb, "state=erred", 3, {"GET list": r(1000, p50)})
            for n, mb, p50 in ((1000, 80.0, 1.0), (100_000, 350.0, 2.0))]
    lat_s, mem = scale.tables(rows)
    assert lat_s[2][-1] == "2.00" and mem[2][4] == "350" and mem[2][3] == "-"
    assert mem[0][-1] == "cold start CPU s (median)" and mem[2][-1] == "-"
    rows[0].cold_start_cpu_median_s = 0.41
    assert scale.tables(rows)[1][1][-1] == "0.41"
    # list: 10x Prism (>= 6), 0.5x ceiling (< 0.6); retrieve: 3x, 0.3x; cold start 0.8 s
    # (> 0.5); 2x slower; 350 MB; 100k cold start 0.5 s (< 2, one-shot: no median)
    met = [v.met for v in verdicts(tp, rows)]
    assert met == [True, False, False, False, False, False, False, True]
    rows[1].cold_start_median_s, rows[1].cold_starts = 2.5, [2.4, 2.5, 2.6]
    assert [v.met for v in verdicts(tp, rows)][-1] is False  # the median is judged


def test_connexion_cost_runs_every_variant_on_our_spec() -> None:
    rows = connexion_cost.run(n=2)
    assert [r.variant for r in rows] == list(connexion_cost.VARIANTS)
    assert all(r.list_us > 0 and r.retrieve_us > 0 for r in rows)
    assert len(connexion_cost.table(rows)) == len(rows) + 1


def test_stub_in_process_cost_runs() -> None:
    rows = connexion_cost.stub_rows(n=2, orders=20)
    assert [r.variant for r in rows[1:]] == list(connexion_cost.STUB_VARIANTS)
    assert all(r.list_us > 0 and r.retrieve_us > 0 for r in rows)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed: load part skipped")
def test_wrk_against_the_ceiling_server(tmp_path: Path) -> None:
    path = tmp_path / "captures.json"
    ceiling.save(_captures(), path)
    port = procs.free_port()
    scpu, lcpu = procs.pinning()
    argv = [sys.executable, "-m", "benchmarks.ceiling", str(path), "--port", str(port)]
    with procs.Server(argv, port, LIST, cpu=scpu, log=tmp_path / "ceiling.log") as server:
        assert server.cold_start_s > 0 and server.rss_mb() > 1
        result, raw = wrk.run(f"http://127.0.0.1:{port}{LIST}", wrk.lua_script("GET", {}),
                              duration=1, connections=2, cpu=lcpu)
        pid = server.pid
    assert result.ok and result.requests > 0 and "Latency Distribution" in raw
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def _stub_available() -> bool:
    try:
        return "--orders" in stub.serve_help()
    except Exception:  # noqa: BLE001 - any failure means "not there yet"
        return False


@pytest.mark.skipif(not _stub_available(), reason="`waldur-mock serve --orders` not available")
def test_scale_and_plan_against_a_tiny_stub(tmp_path: Path) -> None:
    rows = scale.run(scale.Options(sizes=(20,), wrk_path=None, workdir=tmp_path))
    assert rows[0].total >= 20 and rows[0].rss_mb > 10 and rows[0].cold_start_s > 0
    assert 0 < rows[0].cold_start_cpu_median_s < 60  # the servers' own processor time
    assert rows[0].rare_matches >= 1
    port = procs.free_port()
    tok = stub.token()
    with procs.Server(stub.serve_argv(port, 20), port, LIST, stub.auth(tok),
                      log=tmp_path / "stub.log") as _server:
        plan = stub.plan(port, tok)
        captures = throughput.capture(port, plan)
    names = [sc.name for sc in plan.scenarios]
    assert names[0] == "GET list" and "GET retrieve" in names
    assert [c.status for c in captures] == [sc.expect for sc in plan.scenarios]


def test_contract_summary_extraction() -> None:
    from benchmarks import contract

    out = "waldur-contract: x\nphases: examples 10, fuzzing 20\n\nFAILURES (3)\n1. ..."
    assert contract.summarise(out) == "phases: examples 10, fuzzing 20; 3 failures"
    assert contract.summarise("phases: examples 1\n") == "phases: examples 1; 0 failures"
    assert contract.summarise("", "boom\n") == "boom"


def test_new_area_reads_are_judged_like_the_orders_reads() -> None:
    """Issue 14: every other GET of the bench needs >= 6x Prism static and >= 0.6x the ceiling."""
    def r(rps: float) -> wrk.WrkResult:
        return wrk.WrkResult(100, 1.0, rps, 1.0, 2.0, 3.0)

    tp = throughput.Result(scenarios=["GET users/me", "GET categories"])
    tp.results = {
        throughput.STUB: {"GET users/me": r(610), "GET categories": r(590)},
        throughput.CEILING: {"GET users/me": r(1000), "GET categories": r(1000)},
        throughput.PRISM_STATIC: {"GET users/me": r(100), "GET categories": r(99)},
    }
    judged = {v.target: v.met for v in verdicts(tp, None) if v.met is not None}
    assert judged == {
        "GET users/me (stub): >= 6 x Prism static": True,
        "GET users/me (stub): >= 0.6 x Starlette ceiling": True,
        "GET categories (stub): >= 6 x Prism static": False,
        "GET categories (stub): >= 0.6 x Starlette ceiling": False,
    }


def test_the_ceiling_is_served_as_the_stub_is() -> None:
    """Same uvicorn settings and the same access log on both sides of every ratio."""
    from mockserver import accesslog, cli

    app, kwargs = ceiling.served(ceiling.create_app([]))
    assert isinstance(app, accesslog.AccessLog)
    assert kwargs == cli.uvicorn_kwargs("info") and kwargs["access_log"] is False


_FLOOR_CHECK = """
import json, sys
from benchmarks import asgi, floor
floor.install()  # as `python -m benchmarks.floor` does, before any app is built
from mockserver.app import create_app
from mockserver.settings import Settings
from tests.test_http_fastwrite import create_body
fast_path = sys.argv[1] == "fast"
app = create_app(Settings(fast_path=fast_path))
backend = app.registry.get(None)
headers = {"Authorization": "Token " + backend.user_by_username("staff").token,
           "Content-Type": "application/json"}
req = asgi.Req("POST", "/api/marketplace-orders/", headers=headers,
               body=json.dumps(create_body(backend, "floor")).encode())
before = len(backend.orders)
answers = [asgi.fetch(app, req) for _ in range(3)]
bad = asgi.fetch(app, asgi.Req("POST", "/api/marketplace-orders/", headers=headers, body=b"[1"))
print(json.dumps({str(fast_path): {
    "statuses": [a.status for a in answers], "bad": bad.status,
    "bodies": len({a.body for a in answers}),
    "locations": len({dict(a.headers)[b"location"] for a in answers}),
    "new_orders": len(backend.orders) - before}}))
"""


@pytest.mark.parametrize("path", ["fast", "connexion"])
def test_floor_replays_the_first_create(path: str) -> None:
    """benchmarks/floor.py: the create handler runs once, then its answer is replayed through
    the rest of the stack (more creates add no order and answer the same bytes); checks before
    the handler still run. In a subprocess: the patch is process-wide, as in the bench."""
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", _FLOOR_CHECK, path], capture_output=True,
                          text=True, cwd=root, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    expected = {"statuses": [201, 201, 201], "bad": 400, "bodies": 1, "locations": 1,
                "new_orders": 1}
    assert out == {str(path == "fast"): expected}


def test_measure_skips_what_a_target_does_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The floor column runs only POST create: the other targets still run every scenario."""
    calls: list[str] = []

    def fake_run(url: str, script: str, **_kw: object) -> tuple[wrk.WrkResult, str]:
        calls.append(url)
        return wrk.WrkResult(10, 1.0, 100.0 + len(calls), 1.0, 2.0, 3.0), ""

    monkeypatch.setattr(wrk, "run", fake_run)
    settles: list[int] = []

    def fake_settle(sids: list[int]) -> float:
        assert sids == [1, 2]
        settles.append(len(calls))
        return 0.0

    monkeypatch.setattr(procs, "settle", fake_settle)

    class Srv:
        def __init__(self, port: int) -> None:
            self.port = self.pid = port

    a = stub.Scenario("GET list", "GET", LIST)
    b = stub.Scenario(throughput.CREATE, "POST", LIST, "{}", expect=201)
    targets = [throughput.Target(throughput.STUB, Srv(1), [a, b]),  # type: ignore[arg-type]
               throughput.Target(throughput.STUB_FLOOR, Srv(2), [None, b])]  # type: ignore[arg-type]
    out = throughput.measure(targets, {}, throughput.Options(rounds=2), None)
    assert set(out[throughput.STUB]) == {"GET list", throughput.CREATE}
    assert set(out[throughput.STUB_FLOOR]) == {throughput.CREATE}
    assert sum(":2/" in u for u in calls) == 1 + 2  # warm-up on its create, 2 rounds of it
    assert sum(":1/" in u for u in calls) == 1 + 2 * 2
    assert settles == list(range(2, len(calls)))  # before every measured run, not warm-ups
    rps, _lat = throughput.tables(throughput.Result(scenarios=["GET list", throughput.CREATE],
                                                    results=out))
    assert rps[1][2] == "-" and rps[2][2] != "-"


def test_create_budget_splits_a_create_from_the_floor_column() -> None:
    def r(rps: float) -> wrk.WrkResult:
        return wrk.WrkResult(100, 1.0, rps, 1.0, 2.0, 3.0)

    tp = throughput.Result(scenarios=[throughput.CREATE])
    tp.results = {throughput.STUB: {throughput.CREATE: r(4000)},  # 250 µs
                  throughput.STUB_FLOOR: {throughput.CREATE: r(8000)},  # 125 µs
                  throughput.CEILING: {throughput.CREATE: r(10000)}}  # 100 µs
    text = throughput.create_budget(tp)
    assert text is not None
    assert "ceiling 100;" in text and "HTTP side 25 " in text and "domain work 125 " in text
    assert "leaves 150 µs" in text  # 0.4x of 10,000/s = 250 µs per request
    del tp.results[throughput.STUB_FLOOR]
    assert throughput.create_budget(tp) is None


def test_settle_waits_for_a_busy_server_to_go_idle() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "import time\nt = time.perf_counter()\n"
                             "while time.perf_counter() - t < 0.6: pass\ntime.sleep(30)"],
                            start_new_session=True)
    try:
        time.sleep(0.1)
        assert procs.session_cpu_s(busy.pid) > 0
        waited = procs.settle([busy.pid], interval=0.1, timeout=5.0)
        assert 0.3 <= waited < 3.0  # it waited for the loop, not for the sleep
        assert procs.settle([busy.pid], interval=0.05) < 0.5  # idle now: one interval
        assert procs.settle([busy.pid], interval=0.05, timeout=0.0) < 0.5  # gives up at once
    finally:
        busy.kill()
        busy.wait()
