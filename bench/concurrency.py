"""/api/ask under 1..64 concurrent clients, against a real ``vraagbaak serve``.

Why a subprocess on loopback: the figure that matters is what a browser or script sees
(HTTP, JSON, uvicorn's threadpool, the embedder lock), not a function call. Every level
sends a bounded number of requests and has a deadline, and the server is stopped at the
end. The baseline is the 1-client throughput of the same server in the same run (the
mean of a run before and one after the others, since the neighbours' load drifts): more
clients cannot answer faster on 2 cores (the model runs one question at a time), but
throughput must not collapse and nothing may fail. Every request asks a different
question: the gold questions, then the same with " (2)", " (3)", ... appended, because a
repeated question would hit the index's query cache and skip the embedding.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import os
import socket
import subprocess
import sys
import time

from bench.common import ROOT, WORK, Context, Row, dist, fmt_ms, report, rss_mb
from eval.gold import load_gold

# (clients, requests); the 1-client level is repeated at the end to see the machine drift.
LEVELS = {True: ((1, 8), (4, 16), (16, 32), (1, 8)),
          False: ((1, 64), (4, 64), (16, 128), (64, 256), (1, 64))}
TARGET = 0.9  # throughput at N clients / at 1 client
STARTUP_S, LEVEL_S = 300, 600


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _level(url: str, questions, clients: int, n: int) -> dict:
    import httpx

    todo = itertools.islice(questions, n)
    latencies, errors = [], []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=LEVEL_S, limits=limits) as http:
        async def client():
            for q in todo:
                t = time.perf_counter()
                try:
                    r = await http.post(url, json={"question": q})
                    if r.status_code == 200:
                        latencies.append((time.perf_counter() - t) * 1000)
                        continue
                    errors.append(f"HTTP {r.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)

        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))), LEVEL_S)
        wall = time.perf_counter() - t0
    return {"clients": clients, "requests": n, "ok": len(latencies), "errors": len(errors),
            "error_kinds": sorted(set(errors)), "wall_s": wall,
            "throughput_rps": len(latencies) / wall, "latency_ms": dist(latencies)}


def run(ctx: Context) -> None:
    if importlib.util.find_spec("vraagbaak.server") is None:
        report("concurrency", ctx, {"skipped": "vraagbaak/server.py is missing"},
               [Row("/api/ask throughput", "skipped", note="vraagbaak.server not there yet")])
        return
    import httpx

    idx, port = ctx.ensure_index(), _free_port()
    base = f"http://127.0.0.1:{port}"
    WORK.mkdir(parents=True, exist_ok=True)
    log = open(WORK / "server.log", "w")  # noqa: SIM115 - closed in finally
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "vraagbaak.cli", "serve", "--index",
                             str(idx), "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited ({proc.returncode}); see bench/work/server.log")
            if time.perf_counter() - t0 > STARTUP_S:
                raise RuntimeError(f"server not up after {STARTUP_S} s")
            try:
                if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        startup, rss_loaded = time.perf_counter() - t0, rss_mb(proc.pid)
        gold = [g.question for g in load_gold()]
        questions = (gold[i % len(gold)] + (f" ({i // len(gold) + 1})" if i >= len(gold) else "")
                     for i in itertools.count())
        levels = [asyncio.run(_level(base + "/api/ask", questions, c, n))
                  for c, n in LEVELS[ctx.quick]]
        rss_after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

    solo = [lv for lv in levels if lv["clients"] == 1]
    base_rps = sum(lv["throughput_rps"] for lv in solo) / len(solo)
    drift = " → ".join(f"{lv['throughput_rps']:.1f}" for lv in solo)
    rows = []
    for n, lv in enumerate(levels):
        ratio = lv["throughput_rps"] / base_rps
        ok = lv["errors"] == 0 and (lv["clients"] == 1 or ratio >= TARGET)
        note = (f"p50 {fmt_ms(lv['latency_ms']['p50'])}, p95 {fmt_ms(lv['latency_ms']['p95'])}"
                f", {lv['ok']}/{lv['requests']} ok")
        if lv["errors"]:
            note += f", errors: {', '.join(lv['error_kinds'])}"
        who = f"{lv['clients']} client" + ("s" if lv["clients"] > 1 else "")
        if n == len(levels) - 1:
            who += " again"
        rows.append(Row(f"{who}: throughput", f"{lv['throughput_rps']:.1f} req/s",
                        f"1 client {base_rps:.1f} req/s ({drift})", ratio,
                        f"≥ {TARGET}, 0 errors", ok, note))
    rows.append(Row("server RSS", f"{rss_loaded:.0f} MB after load, {rss_after:.0f} MB after "
                    "load test", note=f"ready in {startup:.0f} s (model, index, Gradio)"))
    report("concurrency", ctx, {"startup_s": startup, "rss_mb_loaded": rss_loaded,
                                "rss_mb_after": rss_after, "levels": levels}, rows)
