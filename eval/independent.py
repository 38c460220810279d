"""Questions by other writers about documents Vraagbaak was never fitted on.

The gold set (eval/gold.jsonl) was written by reading the demo corpus, and its questions
reuse the documents' words. Users paraphrase. Each set in ``eval/sets/<name>/`` holds
three documents (``docs/``) and 45 questions (``gold.jsonl``, format of eval/GOLD.md),
written by a separate writer who never saw Vraagbaak's code or output. Each set is
indexed on its own, as a user's small collection would be.

    python -m eval.independent [--work DIR]

calibrate.py reads the abstention threshold off these sets: the question model looked
far more reliable on the demo's own held-out questions than it was on these
(docs/calibration.md). Takes ~1 minute; writes nothing to the repository.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from eval.gold import GoldItem, load_gold
from eval.metrics import aggregate

SETS = Path(__file__).with_name("sets")


@dataclass
class IndependentSet:
    name: str
    index: object  # index.Index
    settings: object  # vraagbaak.settings.Settings, pointing at this set's index
    gold: list[GoldItem]


def open_sets(settings, work: Path | None = None, root: Path = SETS) -> list[IndependentSet]:
    """Index each set's documents alone under ``work`` (default: a temporary map;
    incremental, so unchanged documents are reused)."""
    from index import Index, build_index

    work = work or Path(tempfile.mkdtemp(prefix="vraagbaak-independent-"))
    sets = []
    for folder in sorted((p for p in root.iterdir() if (p / "gold.jsonl").is_file()),
                         key=_natural):
        local = settings.model_copy(update={"index_dir": work / folder.name})
        build_index(folder / "docs", local.index_dir, local)
        sets.append(IndependentSet(folder.name, Index.load(local.index_dir, local), local,
                                   load_gold(folder / "gold.jsonl", folder / "docs")))
    return sets


def _natural(path: Path) -> list:
    """independent-2 before independent-10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    from eval.run import evaluate_one
    from qa import QA
    from vraagbaak.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None,
                        help="where the per-set indexes go (default: a temporary map)")
    args = parser.parse_args()
    table = Table(title="Vragen van andere schrijvers over onbekende documenten")
    for col in ("set", "n", "antwoord", "bron", "onterecht n.g.", "n.g. (onbeantwoordbaar)"):
        table.add_column(col, justify="left" if col == "set" else "right")
    pooled = []
    for one in open_sets(Settings(), args.work):
        qa = QA(one.index, one.settings)
        results = [evaluate_one(qa, one.index, item, modes=()) for item in one.gold]
        pooled.extend(results)
        _row(table, one.name, results)
    _row(table, "samen", pooled)
    Console(width=120).print(table)


def _row(table, label: str, results: list[dict]) -> None:
    answerable = aggregate([r for r in results if r["answerable"]])
    refused = aggregate([r for r in results if not r["answerable"]])
    values = (answerable["answer_accuracy"], answerable["citation_accuracy"],
              answerable["false_abstention"], refused["abstention"])
    table.add_row(label, str(len(results)), *("—" if v is None else f"{v:.2f}" for v in values))


if __name__ == "__main__":
    main()
