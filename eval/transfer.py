"""Does the shipped ranker hold on a corpus it was not fitted on?

``qa/ranker.json`` is fitted on the five demo documents indexed together; users bring
other, often smaller collections, where IDF weights, cosine levels and the competition
between passages all differ. This builds one index per demo document alone and asks, on
each, that document's gold questions, the gold unanswerables and the other documents'
questions (whose subject is then absent). The same questions on the full index are the
baseline, measured in the same run.

    python -m eval.transfer --index data/index [--work DIR]

Takes ~3 minutes on 2 cores (one small index per document). Nothing is written to the
repository.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

from eval.gold import DEFAULT_CORPUS, DEFAULT_GOLD, UNANSWERABLE, GoldItem, load_gold
from eval.metrics import aggregate
from eval.run import evaluate_one


def off_corpus(item: GoldItem) -> GoldItem:
    """An answerable question whose document is not in the index: it must be refused."""
    return dataclasses.replace(item, type=UNANSWERABLE, must_contain=(), source=None,
                               evidence=None, section=None, evidence_lines=())


def ask_all(qa, index, items: list[GoldItem]) -> list[dict]:
    return [evaluate_one(qa, index, item, modes=()) for item in items]


def summary(own: list[dict], gold_unanswerable: list[dict], other: list[dict]) -> dict:
    """One table row, with the eval's own metric rules (eval/metrics.py); None = no questions."""
    mine, refused = aggregate(own), aggregate(gold_unanswerable)
    return {
        "n": len(own),
        "answer": mine["answer_accuracy"],
        "citation": mine["citation_accuracy"],
        "false_abstention": mine["false_abstention"],
        "abstention": refused["abstention"],
        "off_corpus_abstention": aggregate(other)["abstention"],
    }


def _row(table, label: str, row: dict) -> None:
    table.add_row(label, str(row["n"]), *("—" if row[k] is None else f"{row[k]:.2f}" for k in (
        "answer", "citation", "false_abstention", "abstention", "off_corpus_abstention")))


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    from index import Index, build_index
    from qa import QA
    from vraagbaak.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None, help="the full demo index")
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--work", type=Path, default=None,
                        help="where the per-document indexes go (default: a temporary map)")
    args = parser.parse_args()
    console = Console(stderr=True)
    settings = Settings(**({"index_dir": args.index} if args.index else {}))
    gold = load_gold(args.gold, args.corpus)
    unanswerable = [g for g in gold if not g.answerable]
    sources = sorted({g.source for g in gold if g.answerable})

    full_index = Index.load(settings.index_dir, settings)
    full_qa = QA(full_index, settings)
    full_unanswerable = ask_all(full_qa, full_index, unanswerable)
    work = args.work or Path(tempfile.mkdtemp(prefix="vraagbaak-transfer-"))
    table = Table(title="Elk document alleen geïndexeerd vs. alle documenten samen")
    for col in ("document", "n", "antwoord", "bron", "onterecht n.g.", "n.g. (gold)",
                "n.g. (ander doc.)"):
        table.add_column(col, justify="left" if col == "document" else "right")
    pooled_alone: tuple[list, list, list] = ([], [], [])
    pooled_together: list[dict] = []
    for source in sources:
        own = [g for g in gold if g.source == source]
        other = [off_corpus(g) for g in gold if g.answerable and g.source != source]
        console.print(f"[bold]{source}[/]: index met alleen dit document …")
        local = settings.model_copy(update={"index_dir": work / Path(source).stem})
        build_index(args.corpus / source, local.index_dir, local)
        alone = Index.load(local.index_dir, local)
        qa = QA(alone, local)
        alone_results = (ask_all(qa, alone, own), ask_all(qa, alone, unanswerable),
                         ask_all(qa, alone, other))
        together = ask_all(full_qa, full_index, own)
        _row(table, f"{source} (alleen)", summary(*alone_results))
        _row(table, f"{source} (samen)", summary(together, full_unanswerable, []))
        for pool, results in zip(pooled_alone, alone_results, strict=True):
            pool.extend(results)
        pooled_together.extend(together)
    _row(table, "alle vragen (alleen)", summary(*pooled_alone))
    _row(table, "alle vragen (samen)", summary(pooled_together, full_unanswerable, []))
    Console(width=120).print(table)
    console.print(f"Indexen per document: {work}")


if __name__ == "__main__":
    main()
