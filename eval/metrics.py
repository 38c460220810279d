"""Scoring rules, as pure functions over plain values, so each rule can be unit-tested.

Answer matching is deliberately simple and documented here, because the gold set's
``must_contain`` lists were written against exactly these rules:

* both sides are lower-cased, every run of whitespace (incl. no-break spaces) becomes
  one space, and the ``[n]`` citation markers are removed from the answer first (else
  "1" would match the marker "[1]");
* a string without digits matches as a plain substring ("blok" in "minister blok");
* a string with digits must also sit on number boundaries: where it starts with a digit,
  the character before may not be a letter or digit, nor a "," / "." that follows a
  digit; where it ends with a digit, the next character may not be a digit, nor a "," /
  "." followed by a digit. So "7" does not match "17", "2027", "7,5" or "1.700", while
  "25" does match "€25mln" (letters after a number are allowed: "6mln", "500k");
* Dutch thousands separators are tried both ways: "1.200.000" and "1200000" match each
  other ("." between a digit and a group of exactly three digits is dropped);
* zero cents are dropped, so "1.000.000,00" and "€ 500,-" hold "1.000.000" and "500".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

MAX_ANSWER_CHARS = 400
RECALL_AT = (1, 5, 10)

_MARKER = re.compile(r"\s*\[\d+\]")
_THOUSANDS = re.compile(r"(?<=\d)\.(?=\d{3}(?!\d))")
_ZERO_CENTS = re.compile(r"(?<=\d),(?:00|-)(?![\d-])")
_WORD = re.compile(r"\w+", re.UNICODE)


# --- answer correctness ---------------------------------------------------------------
def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text)


def _variants(text: str) -> set[str]:
    text = _ZERO_CENTS.sub("", text)
    return {text, _THOUSANDS.sub("", text)}


def _pattern(needle: str) -> re.Pattern:
    body = re.escape(needle)
    if needle[:1].isdigit():
        body = r"(?<!\w)(?<!\d[.,])" + body
    if needle[-1:].isdigit():
        body = body + r"(?!\d)(?![.,]\d)"
    return re.compile(body)


def contains_answer(answer: str, must_contain: Iterable[str]) -> bool:
    """True when the answer holds one of the gold strings (rules in the module doc)."""
    texts = _variants(normalise(strip_markers(answer)))
    for raw in must_contain:
        needle = normalise(raw)
        if not needle:
            continue
        has_digit = any(ch.isdigit() for ch in needle)
        for variant in _variants(needle):
            for text in texts:
                if has_digit:
                    if _pattern(variant).search(text):
                        return True
                elif variant in text:
                    return True
    return False


def answer_correct(found: bool, answer: str, must_contain: Iterable[str],
                   max_chars: int = MAX_ANSWER_CHARS) -> bool:
    """Found, short enough to read at a glance, and holding a gold string."""
    return bool(found) and len(answer) <= max_chars and contains_answer(answer, must_contain)


# --- citations and retrieval ------------------------------------------------------------
def span_holds(source: str, line_start: int, line_end: int, gold_source: str | None,
               evidence_lines: Iterable[int]) -> bool:
    """A cited span or hit is right when it is in the gold file and covers an evidence line."""
    if gold_source is None or source != gold_source:
        return False
    return any(line_start <= n <= line_end for n in evidence_lines)


def citation_ok(spans: Iterable[tuple[str, int, int]], gold_source: str | None,
                evidence_lines: Sequence[int]) -> bool:
    return any(span_holds(s, a, b, gold_source, evidence_lines) for s, a, b in spans)


def first_rank(spans: Iterable[tuple[str, int, int]], gold_source: str | None,
               evidence_lines: Sequence[int]) -> int | None:
    """1-based rank of the first hit whose span holds the evidence, or None."""
    for rank, (s, a, b) in enumerate(spans, 1):
        if span_holds(s, a, b, gold_source, evidence_lines):
            return rank
    return None


# --- grounding ---------------------------------------------------------------------------
def grounding(answer: str, quotes: dict[int, str]) -> tuple[int, int]:
    """(grounded, total) answer sentences. The answer is split on its "[n]" markers; the
    text before a marker is grounded when all its words occur in quote n. Text after
    the last marker, or citing a number without a quote, counts as ungrounded."""
    parts = re.split(r"\[(\d+)\]", answer)
    grounded = total = 0
    for i in range(0, len(parts), 2):
        words = _WORD.findall(parts[i].lower())
        if not words:
            continue
        total += 1
        if i + 1 < len(parts):
            quote = quotes.get(int(parts[i + 1]))
            if quote is not None and set(words) <= set(_WORD.findall(quote.lower())):
                grounded += 1
    return grounded, total


# --- aggregation -------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), without numpy."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * p / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _share(flags: Sequence[bool]) -> float | None:
    return sum(1 for f in flags if f) / len(flags) if flags else None


def retrieval_metrics(ranks: Sequence[int | None]) -> dict:
    out: dict = {f"recall@{k}": _share([r is not None and r <= k for r in ranks])
                 for k in RECALL_AT}
    out["mrr"] = sum(1 / r for r in ranks if r) / len(ranks) if ranks else None
    return out


def aggregate(results: Sequence[dict]) -> dict:
    """Metrics over per-question results (the dicts stored in a run file).

    Answer, citation and retrieval metrics count answerable questions only; abstention
    counts unanswerables only. Top-level recall@k/mrr are the hybrid retriever's (the
    one the answerer uses); ``retrieval`` holds every mode that was measured."""
    ans = [r for r in results if r["answerable"]]
    unans = [r for r in results if not r["answerable"]]
    modes = sorted({m for r in ans for m in r.get("ranks", {})},
                   key=lambda m: ("hybrid", "dense", "bm25").index(m)
                   if m in ("hybrid", "dense", "bm25") else 9)
    retrieval = {m: retrieval_metrics([r["ranks"].get(m) for r in ans]) for m in modes}
    grounded = sum(r.get("grounded", 0) for r in results if r["found"])
    sentences = sum(r.get("sentences", 0) for r in results if r["found"])
    latencies = [r["latency_ms"] for r in results if r.get("latency_ms") is not None]
    metrics = {
        "n": len(results),
        "n_answerable": len(ans),
        "n_unanswerable": len(unans),
        "answer_accuracy": _share([r["correct"] for r in ans]),
        "citation_accuracy": _share([r["cited_ok"] for r in ans]),
        "answer_and_citation": _share([r["correct"] and r["cited_ok"] for r in ans]),
        "abstention": _share([not r["found"] for r in unans]),
        "false_abstention": _share([not r["found"] for r in ans]),
        **retrieval.get("hybrid", retrieval_metrics([])),
        "grounding": grounded / sentences if sentences else None,
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "retrieval": retrieval,
    }
    return metrics


def aggregate_by_type(results: Sequence[dict], types: Sequence[str]) -> dict:
    """Overall metrics plus one block per question type (gold order, present types only)."""
    present = [t for t in types if any(r["type"] == t for r in results)]
    present += sorted({r["type"] for r in results} - set(present))
    return {
        "overall": aggregate(results),
        "per_type": {t: aggregate([r for r in results if r["type"] == t]) for t in present},
    }
