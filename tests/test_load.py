"""A real `vraagbaak serve` under load, its access rules, and a kill during feedback.

The server is a subprocess on a free loopback port, serving a copy of the session demo
index (so nothing here can change the index other tests use). The load test sends
50 concurrent clients x 20 questions; every answer must equal the sequential answer to
the same question, with zero errors, and the server's RSS must stay bounded. Latency
percentiles and RSS are printed for the closing note.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
import psutil
import pytest
from helpers_reliability import ROOT, child_env, free_port, wait_for

TOKEN = "proef-token-7c1e94"
START_TIMEOUT_S = 300
CLIENTS, PER_CLIENT = 50, 20
RSS_GROWTH_LIMIT_MB = 150
LOAD_DEADLINE_S = 600  # the load phase stops issuing requests after this
MB = 1024 * 1024


def gold_questions(n: int = 10) -> list[str]:
    """The first gold question of every type, then of every other source, up to ``n``."""
    records = [json.loads(line) for line in
               (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    chosen, types, sources = [], set(), set()
    for r in records:
        if r["type"] not in types:
            types.add(r["type"])
            sources.add(r.get("source"))
            chosen.append(r["question"])
    for r in records:
        if len(chosen) >= n:
            break
        if r.get("source") not in sources and r["question"] not in chosen:
            sources.add(r.get("source"))
            chosen.append(r["question"])
    assert len(set(chosen)) == len(chosen) >= min(n, 10)
    return chosen[:n]


def stable(body: dict) -> dict:
    return {"found": body["found"], "answer": body["answer"], "citations": body["citations"]}


def start_server(work: Path, index_dir: Path, **env: str):
    port = free_port()
    log = open(work / "server.log", "wb")  # noqa: SIM115 - closed in stop_server
    proc = subprocess.Popen(
        [sys.executable, "-m", "vraagbaak.cli", "serve", "--index", str(index_dir),
         "--port", str(port)],
        cwd=ROOT, env=child_env(work, **env), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def healthy():
        try:
            return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    t0 = time.perf_counter()
    try:
        wait_for(healthy, START_TIMEOUT_S, "GET /api/health == 200", proc, interval=0.25)
    except AssertionError:
        stop_server(SimpleNamespace(proc=proc, log=log))
        raise AssertionError(
            (work / "server.log").read_text(errors="replace")[-3000:]) from None
    return SimpleNamespace(proc=proc, log=log, url=url, port=port, work=work,
                           feedback=work / "feedback" / "feedback.jsonl",
                           start_s=time.perf_counter() - t0)


def stop_server(server) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=20)
    server.log.close()


@pytest.fixture(scope="module")
def served_index(settings, demo_build, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("served") / "index"
    shutil.copytree(settings.index_dir, target,
                    ignore=shutil.ignore_patterns(".build.lock", "*.tmp"))
    return target


@pytest.fixture(scope="module")
def server(served_index, tmp_path_factory):
    """`vraagbaak serve` with an admin token; /api/ask stays open."""
    srv = start_server(tmp_path_factory.mktemp("serve-load"), served_index,
                       VRAAGBAAK_ADMIN_TOKEN=TOKEN)
    print(f"server healthy after {srv.start_s:.1f} s")
    yield srv
    stop_server(srv)


# --- access --------------------------------------------------------------------------------


def _upload(url: str, headers: dict, name: str = "notitie.txt") -> httpx.Response:
    return httpx.post(f"{url}/api/upload", headers=headers, timeout=60,
                      files=[("files", (name, b"Een korte notitie over de gemeente.",
                                        "text/plain"))])


def test_upload_needs_the_admin_token(server):
    r = _upload(server.url, {})
    assert r.status_code == 401, r.text
    assert "Toegangstoken ontbreekt" in r.json()["detail"]
    assert r.headers.get("www-authenticate") == "Bearer"
    for headers in ({"Authorization": "Bearer fout-token"},
                    {"X-Vraagbaak-Token": "fout-token"},
                    {"Authorization": f"Bearer {TOKEN}x"},
                    {"Authorization": f"Basic {TOKEN}"}):
        r = _upload(server.url, headers)
        expected = 401 if headers.get("Authorization", "").startswith("Basic") else 403
        assert r.status_code == expected, (headers, r.status_code, r.text)
    # the right token passes the guard; this file type is then refused (nothing stored)
    r = _upload(server.url, {"Authorization": f"Bearer {TOKEN}"}, name="virus.exe")
    assert r.status_code == 415, r.text
    r = _upload(server.url, {"X-Vraagbaak-Token": TOKEN}, name="../../etc/passwd")
    assert r.status_code in (400, 415), r.text


def test_ask_and_reading_stay_open_without_a_token(server):
    r = httpx.post(f"{server.url}/api/ask", json={"question": "wat is streettriage"},
                   timeout=60)
    assert r.status_code == 200 and r.json()["found"] is True
    assert httpx.get(f"{server.url}/api/health", timeout=10).status_code == 200
    assert httpx.get(f"{server.url}/api/documents", timeout=10).status_code == 200


@pytest.mark.timeout(900)  # includes the session demo build when run alone
def test_ask_can_require_the_token(served_index, tmp_path):
    srv = start_server(tmp_path, served_index, VRAAGBAAK_ADMIN_TOKEN=TOKEN,
                       VRAAGBAAK_ASK_REQUIRES_TOKEN="true")
    try:
        ask = f"{srv.url}/api/ask"
        body = {"question": "wat is streettriage"}
        r = httpx.post(ask, json=body, timeout=60)
        assert r.status_code == 401 and "Toegangstoken ontbreekt" in r.json()["detail"]
        r = httpx.post(ask, json=body, headers={"Authorization": "Bearer fout"}, timeout=60)
        assert r.status_code == 403 and "onjuist" in r.json()["detail"]
        r = httpx.post(ask, json=body, headers={"Authorization": f"Bearer {TOKEN}"},
                       timeout=60)
        assert r.status_code == 200 and r.json()["found"] is True
        r = httpx.post(ask, json=body, headers={"X-Vraagbaak-Token": TOKEN}, timeout=60)
        assert r.status_code == 200
        assert httpx.get(f"{srv.url}/api/documents", timeout=10).status_code == 401
        r = httpx.post(f"{srv.url}/api/feedback", timeout=10, json={
            "question": "q", "answer": "a", "citations": [], "verdict": "up"})
        assert r.status_code == 401
        assert not srv.feedback.exists()
        assert httpx.get(f"{srv.url}/api/health", timeout=10).status_code == 200
    finally:
        stop_server(srv)


# --- load ------------------------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


@pytest.mark.load
@pytest.mark.timeout(1200)
def test_fifty_concurrent_clients_get_the_sequential_answers(server):
    questions = gold_questions(10)
    ask = f"{server.url}/api/ask"
    with httpx.Client(timeout=120) as client:
        expected = {}
        for q in questions:  # also the warm-up
            r = client.post(ask, json={"question": q})
            assert r.status_code == 200, (q, r.text)
            expected[q] = stable(r.json())
    proc = psutil.Process(server.proc.pid)
    rss_before = proc.memory_info().rss

    deadline = time.monotonic() + LOAD_DEADLINE_S
    lock = threading.Lock()
    latencies: list[float] = []
    server_ms: list[float] = []
    errors: list[str] = []
    mismatches: list[str] = []
    not_run = [0]

    def client_run(c: int) -> None:
        with httpx.Client(timeout=httpx.Timeout(120, connect=10)) as http:
            for i in range(PER_CLIENT):
                if time.monotonic() > deadline:
                    with lock:
                        not_run[0] += PER_CLIENT - i
                    return
                q = questions[(c * 3 + i) % len(questions)]
                t0 = time.perf_counter()
                try:
                    r = http.post(ask, json={"question": q})
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    if r.status_code != 200:
                        errors.append(f"HTTP {r.status_code}: {r.text[:200]}")
                        continue
                    body = r.json()
                    server_ms.append(body["latency_ms"])
                    if stable(body) != expected[q]:
                        mismatches.append(q)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(client_run, c) for c in range(CLIENTS)]
        for f in futures:
            f.result(timeout=LOAD_DEADLINE_S + 240)
    wall = time.perf_counter() - t0
    time.sleep(1.0)
    rss_after = proc.memory_info().rss
    growth_mb = (rss_after - rss_before) / MB

    report = (
        f"load: {CLIENTS} clients x {PER_CLIENT} = {len(latencies)} answered in {wall:.1f} s "
        f"({len(latencies) / wall:.1f} req/s); errors {len(errors)}, mismatches "
        f"{len(mismatches)}, not run {not_run[0]}\n"
        f"latency client p50 {_percentile(latencies, 50) * 1000:.0f} ms, "
        f"p95 {_percentile(latencies, 95) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms; server-side p50 "
        f"{statistics.median(server_ms):.0f} ms\n"
        f"server RSS after warm-up {rss_before / MB:.0f} MB, after {len(latencies)} "
        f"requests {rss_after / MB:.0f} MB (growth {growth_mb:+.0f} MB, "
        f"limit {RSS_GROWTH_LIMIT_MB} MB)")
    print(report)
    (server.work / "load-report.txt").write_text(report, encoding="utf-8")
    assert not_run[0] == 0, f"deadline hit: {not_run[0]} requests not sent"
    assert errors == [], errors[:5]
    assert mismatches == [], sorted(set(mismatches))
    assert len(latencies) == CLIENTS * PER_CLIENT
    assert growth_mb < RSS_GROWTH_LIMIT_MB, report


# --- SIGKILL during feedback (runs last: it kills the module's server) ---------------------


@pytest.mark.timeout(900)
def test_feedback_file_survives_sigkill_of_the_server(server):
    feedback = server.feedback
    first = httpx.post(f"{server.url}/api/feedback", timeout=30, json={
        "question": "eerste", "answer": "a", "citations": [], "verdict": "up"})
    assert first.status_code == 201, first.text
    before = feedback.read_bytes()
    acked = [0]
    lock = threading.Lock()
    stop = threading.Event()
    quote = "é" * 4000  # a record larger than one pipe buffer

    def post_loop(t: int) -> None:
        with httpx.Client(timeout=10) as http:
            i = 0
            while not stop.is_set():
                try:
                    r = http.post(f"{server.url}/api/feedback", json={
                        "question": f"vraag {t}-{i}", "answer": "antwoord",
                        "citations": [{"n": 1, "source": "a.txt", "quote": quote}],
                        "verdict": "down", "comment": f"opmerking {t}-{i}"})
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 201:
                    with lock:
                        acked[0] += 1
                i += 1

    threads = [threading.Thread(target=post_loop, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: acked[0] >= 30, 60, "30 acknowledged feedback posts")
    finally:
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=30)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    data = feedback.read_bytes()
    assert data.startswith(before), "feedback file truncated or rewritten"
    *complete, tail = data.decode("utf-8").split("\n")
    records = [json.loads(line) for line in complete]  # every complete line is valid JSON
    assert tail == "" or tail.startswith('{"question": ')  # only the last line may be torn
    n_before = before.count(b"\n")
    assert len(records) - n_before >= acked[0], (len(records), n_before, acked[0])
    print(f"server SIGKILLed after {acked[0]} acknowledged feedback posts; file has "
          f"{len(records)} complete records, incomplete tail {len(tail)} bytes")
