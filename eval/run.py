"""``vraagbaak eval``: answer every gold question, score it, write a run file and report.

A run file is self-contained (metrics, every question's result, the gold answer and the
configuration that produced it), so two runs can be compared later without the index,
the model or even the same checkout: ``main(compare=(new, old))`` loads nothing heavy.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from eval.compare import compare_runs
from eval.gold import DEFAULT_CORPUS, DEFAULT_GOLD, ROOT, TYPES, GoldItem, load_gold, sha256_of
from eval.metrics import (
    aggregate_by_type,
    answer_correct,
    citation_ok,
    first_rank,
    grounding,
)

RUN_FORMAT = 1
MODES = ("hybrid", "dense", "bm25")
K = 10
DEFAULT_TOLERANCE = 0.02
# Settings that say nothing about answer quality, or must never land in a file.
_NOT_RECORDED = {"index_dir", "cache_dir", "feedback_file", "upload_dir", "host", "port",
                 "upload_enabled", "admin_token", "ask_requires_token"}
_SECRET_WORDS = ("token", "secret", "password", "key")


# --- evaluation --------------------------------------------------------------------------
def evaluate_one(qa, index, item: GoldItem, modes=MODES) -> dict:
    from qa.types import QuestionError

    error = None
    try:
        answer = qa.answer(item.question)
        found, text, latency = answer.found, answer.text, answer.latency_ms
        citations = list(answer.citations)
    except QuestionError as exc:
        found, text, latency, citations, error = False, str(exc), None, [], str(exc)
    spans = [(c.source, c.line_start, c.line_end) for c in citations]
    grounded, sentences = grounding(text, {c.n: c.quote for c in citations}) if found else (0, 0)
    result = {
        "id": item.id,
        "type": item.type,
        "answerable": item.answerable,
        "question": item.question,
        "found": bool(found),
        "answer": text,
        "citations": [{"n": c.n, "source": c.source, "line_start": c.line_start,
                       "line_end": c.line_end} for c in citations],
        "correct": (answer_correct(found, text, item.must_contain) if item.answerable
                    else not found),
        "cited_ok": (citation_ok(spans, item.source, item.evidence_lines)
                     if item.answerable else None),
        "ranks": {},
        "grounded": grounded,
        "sentences": sentences,
        "latency_ms": None if latency is None else round(latency, 1),
        "gold": {"answer": item.answer, "must_contain": list(item.must_contain),
                 "source": item.source, "evidence": item.evidence,
                 "evidence_lines": list(item.evidence_lines), "section": item.section},
    }
    if error:
        result["error"] = error
    if item.answerable:
        question = index.corrected(" ".join(item.question.split()))
        for mode in modes:
            hits = index.search(question, K, mode=mode)
            result["ranks"][mode] = first_rank(
                [(h.chunk.source, h.chunk.line_start, h.chunk.line_end) for h in hits],
                item.source, item.evidence_lines)
    return result


def evaluate(qa, index, gold, modes=MODES,
             progress: Callable[[dict], None] | None = None) -> dict:
    """Metrics (overall and per type) and per-question results for one system.

    ``gold`` is a list of GoldItem or a path to a gold file; evidence lines not found in
    the demo corpus are looked up in the index's stored document lines."""
    if isinstance(gold, str | Path):
        gold = load_gold(Path(gold), lines_of=_index_lines(index))
    results = []
    for item in gold:
        results.append(evaluate_one(qa, index, item, modes))
        if progress is not None:
            progress(results[-1])
    return {"metrics": aggregate_by_type(results, TYPES), "questions": results}


def _index_lines(index):
    return lambda source: index.source_lines(source, 1, 10**9)


# --- configuration -----------------------------------------------------------------------
def settings_snapshot(settings) -> dict:
    """The settings that shape answers, JSON-safe; paths, service and secrets left out."""
    data = settings.model_dump(mode="json", exclude=_NOT_RECORDED)
    data = {k: v for k, v in data.items() if not any(w in k.lower() for w in _SECRET_WORDS)}
    data.setdefault("eval_tolerance", tolerance_of(settings))
    return data


def tolerance_of(settings) -> float:
    return float(getattr(settings, "eval_tolerance", DEFAULT_TOLERANCE))


def git_commit(cwd: Path = ROOT) -> str | None:
    try:
        proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and commit else None


def ranker_snapshot(settings) -> dict:
    """Which fitted ranker answered, and the threshold and margin in force: the settings
    leave them None when the ranker file decides."""
    from qa.ranker import DEFAULT_PATH, Ranker

    path = Path(settings.ranker_path or DEFAULT_PATH)
    ranker = Ranker.load(path).overridden(settings)
    return {"path": str(path), "sha256": sha256_of(path),
            "abstain_threshold": ranker.abstain_threshold,
            "abstain_thresholds_by_type": ranker.type_thresholds,
            "second_sentence_margin": ranker.second_sentence_margin}


def run_config(index, settings, gold_path: Path) -> dict:
    manifest = getattr(index, "manifest", {}) or {}
    return {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": git_commit(),
        "gold": {"path": str(gold_path), "sha256": sha256_of(gold_path)},
        "embedder": manifest.get("embedder"),
        "chunking": manifest.get("chunking"),
        "index": {k: manifest.get(k) for k in ("built_at", "counts", "dense_index",
                                               "decompound")},
        "settings": settings_snapshot(settings),
        "ranker": ranker_snapshot(settings),
        "retrieval_k": K,
        "modes": list(MODES),
    }


def run_eval(qa, index, settings, gold_path: Path = DEFAULT_GOLD,
             corpus: Path | None = DEFAULT_CORPUS, progress=None) -> dict:
    """A complete run: configuration, metrics and per-question results."""
    gold = load_gold(gold_path, corpus, lines_of=_index_lines(index))
    return {"format": RUN_FORMAT, "config": run_config(index, settings, gold_path),
            **evaluate(qa, index, gold, progress=progress)}


# --- files -------------------------------------------------------------------------------
def save_run(run: dict, path: Path) -> Path:
    """Write NAME.json and the readable NAME.md beside it; returns the Markdown path."""
    from eval.report import to_markdown

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    md = path.with_suffix(".md")
    md.write_text(to_markdown(run), encoding="utf-8")
    return md


def load_run(path: Path) -> dict:
    run = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(run, dict) or "metrics" not in run or "questions" not in run:
        raise ValueError(f"{path} is geen run-bestand van vraagbaak eval.")
    return run


# --- entry point -------------------------------------------------------------------------
def main(gold: Path = DEFAULT_GOLD, index: Path | None = None, out: Path | None = None,
         against: Path | None = None, compare: tuple[Path, Path] | None = None,
         settings=None, *, corpus: Path | None = DEFAULT_CORPUS, console=None) -> int:
    """Exit code: 0 fine, 1 regression against the other run, 2 cannot run."""
    from rich.console import Console

    from eval.report import print_comparison, print_run

    console = console or Console()
    err = Console(stderr=True)
    if settings is None:
        from vraagbaak.settings import Settings

        settings = Settings()
    tolerance = tolerance_of(settings)

    def fail(message: str) -> int:
        err.print(f"[bold red]Fout:[/] {message}")
        return 2

    if compare is not None:
        new_path, old_path = (Path(p) for p in compare)
        try:
            new, old = load_run(new_path), load_run(old_path)
        except (OSError, ValueError) as exc:
            return fail(f"run-bestand niet leesbaar: {exc}")
        ok, text = compare_runs(new, old, tolerance)
        print_comparison(console, ok, text)
        return 0 if ok else 1

    gold = Path(gold)
    if not gold.is_file():
        return fail(f"Het gold-bestand {gold} bestaat niet.")
    other = None
    if against is not None:
        try:
            other = load_run(Path(against))
        except (OSError, ValueError) as exc:
            return fail(f"run-bestand niet leesbaar: {exc}")
    if index is not None:
        settings = settings.model_copy(update={"index_dir": Path(index)})

    from index import Index, IndexProblem
    from qa import QA, RankerProblem

    try:
        idx = Index.load(settings.index_dir, settings)
        qa = QA(idx, settings)
    except (IndexProblem, RankerProblem) as exc:
        return fail(str(exc))
    total = len(load_gold(gold, None))
    with _progress(err, total) as advance:
        run = run_eval(qa, idx, settings, gold, corpus, progress=advance)
    out = Path(out) if out else Path("runs") / time.strftime("eval-%Y%m%d-%H%M%S.json")
    md = save_run(run, out)
    print_run(console, run)
    console.print(f"Run opgeslagen: [bold]{out}[/] (rapport: {md})")
    if other is not None:
        ok, text = compare_runs(run, other, tolerance)
        print_comparison(console, ok, text)
        return 0 if ok else 1
    return 0


class _progress:
    """A transient progress bar on stderr; the report itself goes to stdout."""

    def __init__(self, console, total: int):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self.bar = Progress("Evaluatie", BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=console, transient=True)
        self.task = self.bar.add_task("eval", total=total)

    def __enter__(self):
        self.bar.__enter__()
        return lambda _result: self.bar.advance(self.task)

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)


if __name__ == "__main__":  # pragma: no cover - `python -m eval.run`, until the CLI has it
    import argparse

    parser = argparse.ArgumentParser(prog="python -m eval.run",
                                     description="Evalueer Vraagbaak op de gold set.")
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--index", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--against", type=Path)
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("NIEUW", "OUD"))
    a = parser.parse_args()
    raise SystemExit(main(a.gold, a.index, a.out, a.against,
                          tuple(a.compare) if a.compare else None))
