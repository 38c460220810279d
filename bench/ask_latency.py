"""Ask latency on the demo index, stage by stage, against the query embedding alone.

Why that baseline: one forward pass of the embedder per question is the floor of any
dense-retrieval answer; everything else (FAISS, BM25, fusion, sentence scoring,
formatting, the LCEL chain) should cost a fraction of it. Each question is timed twice,
back to back, in alternating order, so a busy neighbour slows the floor and the answer
alike: the bare ``embed_query`` (which bypasses the index's query cache; on a fresh
thread, as the chain runs it: see ``embed_query_timed``) and ``QA.answer`` (a cache miss,
so it embeds for real). The stages are then re-run one by one on the same
question with the embedding cached, to split the time: ``lcel`` is what the LangChain
chain adds around them, ``rest`` is the answer minus the floor minus the cached chain (it
is the chain's own embedding coming out slower or faster than the floor).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import (
    ROOT,
    WORK,
    Context,
    Row,
    dist,
    embed_query_timed,
    fmt_ms,
    report,
    rss_mb,
    timed,
)

TARGET = 1.5  # ask p50 / embed p50: the rest of the pipeline costs under half an embedding
QUICK_QUESTIONS = 60
WARMUP = ("wat doet de gemeente aan armoede?", "hoeveel kost het project?",
          "wie is verantwoordelijk voor de uitvoering?")
STAGES = ("embed", "dense", "bm25", "fusion", "scoring", "format", "lcel", "rest")


def run(ctx: Context) -> None:
    from qa import QA, validate_question
    from qa.chain import format_answer
    from qa.extractive import ExtractiveAnswerer

    s, emb = ctx.settings, ctx.embedder()
    index = ctx.load_index()
    qa, answerer = QA(index, s), ExtractiveAnswerer(index, s)
    items = ctx.gold()[:QUICK_QUESTIONS] if ctx.quick else ctx.gold()
    for q in WARMUP:
        qa.answer(q)
    total, stages = [], {k: [] for k in STAGES}
    for n, item in enumerate(items):
        q = validate_question(item.question, s)
        if n % 2:  # alternate the order, so neither call always runs on a warmed-up model
            _, embed_ms = embed_query_timed(emb, q)
            answer = qa.answer(q)
        else:
            answer = qa.answer(q)
            _, embed_ms = embed_query_timed(emb, q)
        timings: dict = {}
        hits = index.search(q, s.top_k, timings=timings)  # embedding cached from here on
        staged, scoring_ms = timed(answerer.run, q, hits)
        _, format_ms = timed(format_answer, staged)
        _, chain_ms = timed(qa.chain.invoke, q)
        row = {"embed": embed_ms, "dense": timings["dense_ms"], "bm25": timings["bm25_ms"],
               "fusion": timings["fusion_ms"], "scoring": scoring_ms, "format": format_ms}
        row["lcel"] = max(0.0, chain_ms - sum(row.values()) + embed_ms)
        row["rest"] = answer.latency_ms - embed_ms - chain_ms  # the chain's own embedding
        total.append(answer.latency_ms)
        for k, v in row.items():
            stages[k].append(v)

    ask, floor = dist(total), dist(stages["embed"])
    ratio = ask["p50"] / floor["p50"]
    rss = _child_rss(ctx.index_dir)
    data = {"questions": len(items), "chunks": len(index.chunks), "ask_ms": ask,
            "stages_ms": {k: dist(v) for k, v in stages.items()}, "ratio_p50": ratio,
            "ratio_p95": ask["p95"] / floor["p95"], "process": rss}
    note = (f"{len(items)} questions, {len(index.chunks)} chunks; p95 {fmt_ms(ask['p95'])}, "
            f"max {fmt_ms(ask['max'])}")
    if ratio > TARGET:
        data["profile"] = _profile(index, answerer, items)
        note = f"missed by {ratio / TARGET - 1:.0%}; profile in ask.json; " + note
    rest = {k: d["p50"] for k, d in data["stages_ms"].items() if k != "embed"}
    work = sum(v for k, v in rest.items() if k != "rest")
    rows = [
        Row("ask p50 vs query embedding p50", fmt_ms(ask["p50"]), fmt_ms(floor["p50"]), ratio,
            f"≤ {TARGET}", ratio <= TARGET, note),
        Row("stage p50s", ", ".join(f"{k} {fmt_ms(v)}" for k, v in rest.items()),
            fmt_ms(floor["p50"]), work / floor["p50"],
            note="ratio = stages after the embedding (without rest) / embedding"),
        Row("RSS after load", f"{rss.get('rss_mb', float('nan')):.0f} MB",
            note=f"fresh process: Index.load + QA + one answer ({rss.get('load_s', 0):.1f} s)"),
    ]
    report("ask", ctx, data, rows)


def _child_rss(idx: Path) -> dict:
    """Memory of a fresh process that loaded the index: this one holds other benchmarks'."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "bench.ask_latency", "--rss", str(idx)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": out.stderr[-500:]}


def _profile(index, answerer, items) -> list[str]:
    """pyinstrument over 20 asks of the pipeline after the embedding (cached by then; its
    cost is the floor). Called directly: LCEL runs the retriever in a worker thread, which
    pyinstrument would miss (the chain's own cost is the ``lcel`` stage)."""
    from qa.chain import format_answer

    try:
        from pyinstrument import Profiler
    except ImportError:
        return ["pyinstrument not installed"]
    profiler = Profiler(interval=0.001)
    with profiler:
        for item in items[:20]:
            q = item.question
            format_answer(answerer.run(q, index.search(q, answerer.s.top_k)))
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "ask_profile.html").write_text(profiler.output_html(), "utf-8")
    return profiler.output_text(unicode=True, show_all=False).splitlines()[:60]


def _rss_main(idx: str) -> None:
    from index import Index
    from qa import QA
    from vraagbaak.settings import Settings

    t = time.perf_counter()
    settings = Settings()
    qa = QA(Index.load(Path(idx), settings), settings)
    qa.answer(WARMUP[0])
    print(json.dumps({"rss_mb": rss_mb(), "load_s": time.perf_counter() - t}))


if __name__ == "__main__" and sys.argv[1:2] == ["--rss"]:
    _rss_main(sys.argv[2])
