"""The gold set itself is checked, so a broken or drifted set fails loudly instead of
silently scoring the system against answers the documents no longer hold."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "eval" / "gold.jsonl"
DEMO = ROOT / "data" / "demo"
TYPES = {"date", "number", "money", "who", "what", "list", "why", "yes_no", "unanswerable"}
FIELDS = {"id", "question", "type", "answer", "must_contain", "source", "evidence", "section"}


def _records() -> list[dict]:
    with open(GOLD, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


RECORDS = _records()
ANSWERABLE = [r for r in RECORDS if r["type"] != "unanswerable"]
UNANSWERABLE = [r for r in RECORDS if r["type"] == "unanswerable"]
_LINES: dict[str, list[str]] = {}


def lines_of(source: str) -> list[str]:
    if source not in _LINES:
        text = (DEMO / source).read_text(encoding="utf-8")
        _LINES[source] = [line.rstrip("\r") for line in text.split("\n")]
    return _LINES[source]


def evidence_lines(record: dict) -> list[int]:
    return [n for n, line in enumerate(lines_of(record["source"]), 1)
            if record["evidence"] in line]


def test_fields_and_types():
    for r in RECORDS:
        assert set(r) == FIELDS, r.get("id")
        assert r["type"] in TYPES, r["id"]
        assert isinstance(r["question"], str) and r["question"].strip(), r["id"]


def test_ids_unique():
    ids = Counter(r["id"] for r in RECORDS)
    assert not [i for i, n in ids.items() if n > 1]


def test_every_type_present_and_sizes():
    assert {r["type"] for r in RECORDS} == TYPES
    assert len(ANSWERABLE) >= 150
    assert len(UNANSWERABLE) >= 20


def test_unanswerables_have_no_source():
    for r in UNANSWERABLE:
        assert r["source"] is None and r["evidence"] is None, r["id"]
        assert r["must_contain"] == [], r["id"]


@pytest.mark.parametrize("record", ANSWERABLE, ids=[r["id"] for r in ANSWERABLE])
def test_evidence_within_one_source_line(record):
    assert (DEMO / record["source"]).is_file(), record["source"]
    assert record["must_contain"], "answerable question without must_contain"
    assert all(m == m.lower() for m in record["must_contain"])
    assert evidence_lines(record), f"evidence not inside one line of {record['source']}"


@pytest.mark.parametrize("record", ANSWERABLE, ids=[r["id"] for r in ANSWERABLE])
def test_must_contain_near_evidence(record):
    """At least one string occurs within ±2 lines of the evidence; strings without a
    digit must all occur there (digit strings may be format alternatives like "25 mln")."""
    lines = lines_of(record["source"])
    windows = [" ".join(" ".join(lines[max(0, n - 3): n + 2]).split()).lower()
               for n in evidence_lines(record)]
    present = [m for m in record["must_contain"]
               if any(" ".join(m.split()) in w for w in windows)]
    assert present, f"none of {record['must_contain']} within ±2 lines of the evidence"
    for m in record["must_contain"]:
        if not re.search(r"\d", m):
            assert m in present, f"{m!r} (no digits) not near the evidence"


def test_sportaal_question_present():
    r = next(r for r in RECORDS if r["id"] == "q036")
    assert r["source"] == "001_911975feb7864931.txt"
    assert evidence_lines(r) == [1049]
    assert r["must_contain"] == ["2026"]


def test_eval_loader_resolves_the_same_lines():
    from eval.gold import load_gold

    items = {i.id: i for i in load_gold(GOLD, DEMO)}
    assert len(items) == len(RECORDS)
    for r in ANSWERABLE[:40]:
        assert list(items[r["id"]].evidence_lines) == evidence_lines(r)
    assert all(not i.evidence_lines for i in items.values() if not i.answerable)


@pytest.mark.parametrize("folder", sorted((ROOT / "eval" / "sets").iterdir()),
                         ids=lambda p: p.name)
def test_independent_set_is_well_formed(folder):
    """calibrate.py trains the sentence model on these sets and reads the abstention
    threshold off them: a drifted evidence line would silently move both."""
    from eval.gold import load_gold, read_records

    records = read_records(folder / "gold.jsonl")
    assert all(set(r) == FIELDS and r["type"] in TYPES for r in records)
    assert len({r["id"] for r in records}) == len(records)
    items = load_gold(folder / "gold.jsonl", folder / "docs")
    answerable = [i for i in items if i.answerable]
    assert len(answerable) >= 30 and len(items) - len(answerable) >= 10
    for item in answerable:
        assert (folder / "docs" / item.source).is_file(), item.id
        assert len(item.evidence_lines) == 1, f"{item.id}: evidence not in one line"
        assert item.must_contain and all(m == m.lower() for m in item.must_contain), item.id
    for item in items:
        if not item.answerable:
            assert item.source is None and not item.must_contain, item.id
