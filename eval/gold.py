"""Reading the gold set and pinning each evidence string to its line numbers.

The gold file names evidence as a verbatim substring of one source line; the scoring
needs line *numbers* (citations and hits are line spans), so they are resolved once here,
from the original corpus files, which are the truth the citations must point into.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GOLD = ROOT / "eval" / "gold.jsonl"
DEFAULT_CORPUS = ROOT / "data" / "demo"

TYPES = ("date", "number", "money", "who", "what", "list", "why", "yes_no", "unanswerable")
FIELDS = ("id", "question", "type", "answer", "must_contain", "source", "evidence", "section")
UNANSWERABLE = "unanswerable"


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    type: str
    answer: str
    must_contain: tuple[str, ...]
    source: str | None
    evidence: str | None
    section: str | None
    evidence_lines: tuple[int, ...] = ()  # 1-based; every line holding the evidence

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE


def read_lines(path: Path) -> list[str]:
    """Line n of the file is element n-1: the numbering citations use."""
    text = Path(path).read_text(encoding="utf-8")
    return [line.rstrip("\r") for line in text.split("\n")]


def find_evidence(lines, evidence: str) -> tuple[int, ...]:
    return tuple(n for n, line in enumerate(lines, 1) if evidence in line)


def read_records(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_gold(path: Path = DEFAULT_GOLD, corpus: Path | None = DEFAULT_CORPUS,
              lines_of=None) -> list[GoldItem]:
    """Gold items with evidence lines resolved from ``corpus``; ``lines_of(source)`` is
    the fallback for sources not found there (e.g. the index's stored lines)."""
    cache: dict[str, list[str]] = {}

    def lines(source: str) -> list[str]:
        if source not in cache:
            file = Path(corpus) / source if corpus is not None else None
            if file is not None and file.is_file():
                cache[source] = read_lines(file)
            else:
                cache[source] = list(lines_of(source)) if lines_of else []
        return cache[source]

    items = []
    for r in read_records(path):
        ev_lines = ()
        if r.get("source") and r.get("evidence"):
            ev_lines = find_evidence(lines(r["source"]), r["evidence"])
        items.append(GoldItem(
            id=str(r["id"]), question=r["question"], type=r["type"], answer=r["answer"],
            must_contain=tuple(r.get("must_contain") or ()), source=r.get("source"),
            evidence=r.get("evidence"), section=r.get("section"), evidence_lines=ev_lines,
        ))
    return items


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
