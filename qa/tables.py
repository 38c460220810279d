"""Reading one cell of a flattened table.

PDF extraction turns a table into lines: a header of years ("2025 2026 2027 Totaal") and
rows of a label and numbers ("Sociale huur 60 70 100 90"). Asked "hoeveel sociale huur
in 2027?", the sentence ranker picks the header (it holds the year) or a prose sentence
with the same year, because no single line holds both the label and the year. Here the
row is found whose label matches the question, under a header that holds the asked
year; the answer quotes header and row together, so the reader sees which column is
which. Measured on the independent sets (docs/calibration.md).
"""

from __future__ import annotations

import re

from qa.cues import NUMBER, YEAR
from qa.features import Candidate

_YEAR = re.compile(YEAR)
_CELL = re.compile(r"(?<![\w.,])\d[\d.,]*%?(?![\w])")


def is_header(text: str) -> bool:
    """Column labels: two or more years and no sentence punctuation."""
    return len(_YEAR.findall(text)) >= 2 and not text.rstrip().endswith((".", ":", ";", "?"))


def is_row(text: str) -> bool:
    """A label followed by two or more numeric cells, not a prose sentence."""
    return (len(_CELL.findall(text)) >= 2
            and not text.rstrip().endswith((".", ":", ";", ",", "?"))
            and not is_header(text))


def table_cell(candidates: list[Candidate], question: str,
               index) -> tuple[Candidate, Candidate] | None:
    """(header, row) of the table row that answers ``question``, or None.

    The question must name a year that is one of the header's columns, and the row's
    label must hold more of the question's other (IDF-weighted) words than the ranker's
    best sentence does if that sentence names the year too: a row about something else
    never displaces a sentence that answers."""
    asked_years = set(_YEAR.findall(question))
    if not asked_years or not candidates:
        return None
    weights = {t: w for t, w in index.term_weights(question).items()
               if not NUMBER.fullmatch(t)}
    total = sum(weights.values())
    if not total:
        return None

    def share(text: str) -> float:
        return sum(weights.get(t, 0.0) for t in index.terms(text)) / total

    by_place = {(c.chunk.id, c.sentence.start): c for c in candidates}
    best = candidates[0].sentence.text
    # A best sentence without the asked year cannot say what happened in that year.
    best_share = share(best) if asked_years & set(_YEAR.findall(best)) else 0.0
    found, found_share = None, best_share
    seen = set()
    for cand in candidates:
        chunk = cand.chunk
        # the ranker's best sentence names the right document far more often than the
        # right line: a row in another document's table matches only by a shared word
        if chunk.id in seen or chunk.source != candidates[0].chunk.source:
            continue
        seen.add(chunk.id)
        sentences = chunk.sentences
        for i, head in enumerate(sentences):
            if head.heading or not is_header(head.text):
                continue
            if not asked_years & set(_YEAR.findall(head.text)):
                continue
            for row in sentences[i + 1:]:
                if row.heading or not is_row(row.text):
                    break
                s = share(row.text)
                if s > found_share:
                    found_share = s
                    found = (by_place[(chunk.id, head.start)], by_place[(chunk.id, row.start)])
    return found
