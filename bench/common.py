"""Shared plumbing: paths, the corpus and index a mode uses, timing stats, result files.

Why one ``Context``: the model costs seconds and ~0.5 GB to load, so all benchmarks of a
run share one embedder and one demo index (built incrementally, so a re-run reuses it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eval.gold import GoldItem, load_gold
from eval.metrics import percentile

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"  # indexes and caches; gitignored
RESULTS = ROOT / "bench" / "results"
SUMMARY = RESULTS / "summary.md"
README = ROOT / "bench" / "README.md"
DEMO = ROOT / "data" / "demo"
# Quick mode: the two smallest demo documents (74 of 588 chunks, 33 answerable gold questions).
QUICK_DOCS = ("000_4905b858c5d87b03.txt", "003_70b9a87ca8a924a5.txt")
ORDER = ("ingest", "ask", "tutorial", "concurrency", "scale")


@dataclass
class Context:
    quick: bool
    settings: object = None
    _embedder: object = field(default=None, repr=False)

    def __post_init__(self):
        WORK.mkdir(parents=True, exist_ok=True)
        (WORK / ".gitignore").write_text("*\n")  # built indexes and caches stay local
        if self.settings is None:
            from vraagbaak.settings import Settings

            self.settings = Settings()

    @property
    def mode(self) -> str:
        return "quick (2 of 5 demo docs)" if self.quick else "full (5 demo docs)"

    @property
    def corpus(self) -> Path:
        if not self.quick:
            return DEMO
        folder = WORK / "quick-corpus"
        folder.mkdir(parents=True, exist_ok=True)
        for name in QUICK_DOCS:
            src, dst = DEMO / name, folder / name
            if not dst.exists() or dst.read_bytes() != src.read_bytes():
                shutil.copyfile(src, dst)
        return folder

    @property
    def index_dir(self) -> Path:
        return WORK / ("quick-index" if self.quick else "demo-index")

    def embedder(self):
        if self._embedder is None:
            from index.embedder import load_embedder

            self._embedder = load_embedder(self.settings)
            self._embedder.embed_query("opwarmen")  # first call pays one-off setup
        return self._embedder

    def ensure_index(self) -> Path:
        """The mode's demo index; incremental, so nearly free when it is up to date."""
        from index import build_index

        build_index(self.corpus, self.index_dir, self.settings, embedder=self.embedder())
        return self.index_dir

    def load_index(self):
        from index import Index

        return Index.load(self.ensure_index(), self.settings, embedder=self.embedder())

    def gold(self) -> list[GoldItem]:
        """Gold questions about the mode's documents, plus the unanswerable ones."""
        names = {p.name for p in self.corpus.iterdir()}
        return [g for g in load_gold(corpus=DEMO) if g.source is None or g.source in names]


def dist(values) -> dict:
    values = [float(v) for v in values]
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "max": max(values) if values else None,
            "mean": sum(values) / len(values) if values else None}


def timed(fn, *args, **kwargs):
    """(result, milliseconds)."""
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, (time.perf_counter() - t) * 1000


def embed_query_timed(embedder, text: str):
    """(vector, ms) of one query embedding, run on a fresh thread as the product runs it.

    Why a thread: LCEL's RunnableParallel runs the retriever, and so the embedding, on a
    new executor thread per question (the server adds its own threadpool). On the loaded
    2 cores, torch called from the main thread after other threads had used it took
    1.5 s instead of 0.09 s (each calling thread gets its own OpenMP team, and the idle
    teams fight the active one), which would make every ratio against it meaningless.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(timed, embedder.embed_query, text).result()


def rss_mb(pid: int | None = None) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def machine() -> dict:
    return {"cores": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()]}


# --- results ------------------------------------------------------------------------------
@dataclass
class Row:
    metric: str
    value: str
    baseline: str = "—"
    ratio: float | None = None
    target: str = "—"
    met: bool | None = None
    note: str = ""


HEADER = ("| benchmark | metric | value | baseline | ratio | target | met? | run | notes |\n"
          "|---|---|---|---|---|---|---|---|---|\n")
INTRO = """# Benchmark summary

Written by `python -m bench.run` (one block of rows per benchmark, replaced by its latest
run). Every value sits next to a baseline measured in the same run on the same 2 shared
cores: judge the ratio, not the milliseconds. Details: `bench/results/NAME.json` (not
committed) and `bench/README.md`.

"""


def _cell(text: str) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def report(name: str, ctx: Context, data: dict, rows: list[Row]) -> None:
    """Write results/NAME.json and replace NAME's rows in summary.md and the README."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    data = {"benchmark": name, "mode": ctx.mode, "when": stamp, "machine": machine(),
            **data, "rows": [asdict(r) for r in rows]}
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False,
                                                     default=str), "utf-8")
    run = f"{'quick' if ctx.quick else 'full'} {stamp}"
    new = []
    for r in rows:
        met = "—" if r.met is None else ("yes" if r.met else "**no**")
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}"
        cells = (name, r.metric, r.value, r.baseline, ratio, r.target, met, run, r.note)
        new.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    old = SUMMARY.read_text("utf-8").splitlines() if SUMMARY.exists() else []
    kept = [ln for ln in old if ln.startswith("| ") and not ln.startswith("| benchmark ")
            and ln.split("|")[1].strip() != name]
    everything = kept + new
    everything.sort(key=lambda ln: _rank(ln.split("|")[1].strip()))  # stable within a block
    table = HEADER + "\n".join(everything) + "\n"
    SUMMARY.write_text(INTRO + table, "utf-8")
    if README.exists():
        text = README.read_text("utf-8")
        text = re.sub(r"(<!-- summary -->\n).*?(<!-- /summary -->)",
                      lambda m: m.group(1) + table + m.group(2), text, flags=re.S)
        README.write_text(text, "utf-8")


def _rank(name: str) -> int:
    return ORDER.index(name) if name in ORDER else len(ORDER)


def fmt_ms(x: float | None) -> str:
    return "—" if x is None else (f"{x:.2f} ms" if x < 10 else f"{x:.0f} ms")
