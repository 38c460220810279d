"""Reading one row of a flattened table.

PDF extraction turns a table into lines: a header of years ("2025 2026 2027 Totaal") and
rows of a label and values ("Sociale huur 60 70 100 90", "Totaal € 751.000"). Asked
"hoeveel sociale huur in 2027?", the sentence ranker picks the header (it holds the year)
or a prose sentence with the same year, because no single line holds both the label and
the year; asked "wat kost een kavel op Hoge Weide?", it picks the prose sentence that
names Hoge Weide but holds no price. Here the row is found whose label matches the
question, and the answer quotes it under its header, so the reader sees which column is
which. Measured on the independent sets (docs/calibration.md).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from qa.cues import MONTHS, NUMBER, YEAR, new_value

if TYPE_CHECKING:
    from qa.features import Candidate

_YEAR = re.compile(YEAR)
_CELL = re.compile(r"(?<![\w.,])\d[\d.,]*%?(?![\w])")
_SENTENCE_END = (".", ":", ";", ",", "?", "!")
_FOOTNOTE_MARK = "¹²³⁴⁵⁶⁷⁸⁹⁰*†"  # "De tabel geeft de ontwikkeling weer.¹" is prose
# "3.1 Bij het bepalen ...", "b. de kosten ...": a clause number is no value
_CLAUSE = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[a-z]\.)\s+")
_FIGURE = r"(?:tabel|figuur|grafiek|bijlage|overzicht)\s+\d"
# "Tabel 2 Kosten 2026": a caption names a table, it holds none of its values
_CAPTION = re.compile(_FIGURE, re.IGNORECASE)
# "Tabel 1.", "peildatum 1 januari 2025": numbers that name a table or a day count nothing
_LABEL = re.compile(rf"^\s*{_FIGURE}\d*[.:]?", re.IGNORECASE)
_DAY = re.compile(rf"\b\d{{1,2}}\s+(?:{MONTHS})\b(?:\s+{YEAR})?|"
                  r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b", re.IGNORECASE)
# A question asking for one of these forms is answered by a row that holds one.
VALUE_TYPES = ("number", "money", "date")


def is_header(text: str) -> bool:
    """Column labels: two or more years and no sentence punctuation."""
    return len(_YEAR.findall(text)) >= 2 and not text.rstrip().endswith((".", ":", ";", "?"))


def is_row(text: str) -> bool:
    """A label followed by two or more numeric cells, not a prose sentence."""
    return (len(_CELL.findall(text)) >= 2
            and not text.rstrip().endswith(_SENTENCE_END)
            and not is_header(text))


def is_pair(text: str, max_words: int) -> bool:
    """A label and its value on one short unpunctuated line ("Totaal € 751.000",
    "Raadsvergadering: 3 juli 2027"): a two-column table row or a fact sheet's line."""
    text = text.strip()
    return (bool(text) and text[0].isalpha() and len(text.split()) <= max_words
            and not text.rstrip(_FOOTNOTE_MARK).endswith(_SENTENCE_END)
            and not _CAPTION.match(text))


def table_cell(candidates: list[Candidate], question: str, qtype: str, index,
               pair_words: int) -> tuple[Candidate | None, Candidate] | None:
    """(header or None, row) of the table row that answers ``question``, or None.

    A question naming a year is answered from a row under a header that holds that
    year; a question asking for a number, amount or date without a year, by a row or
    label-and-value line holding a value of that form. Either way the row must hold more
    of the question's other (IDF-weighted) words than the ranker's best sentence does, if
    that sentence could answer at all: a row about something else never displaces a
    sentence that answers."""
    asked_years = set(_YEAR.findall(question))
    if not candidates or not (asked_years or qtype in VALUE_TYPES):
        return None
    weights = {t: w for t, w in index.term_weights(question).items()
               if not NUMBER.fullmatch(t)}
    total = sum(weights.values())
    if not total:
        return None

    def share(text: str) -> float:
        return sum(weights.get(t, 0.0) for t in index.terms(text)) / total

    def holds_value(text: str) -> bool:
        text = _LABEL.sub("", _CLAUSE.sub("", text))
        if qtype == "number":
            text = _DAY.sub("", text)
        return qtype not in VALUE_TYPES or new_value(qtype, text, question) >= 1.0

    by_place = {(c.chunk.id, c.sentence.start): c for c in candidates}
    best = candidates[0].sentence.text
    # A best sentence without the asked year cannot say what happened in that year, and
    # one without a value of the asked form cannot say how much or when.
    answers = holds_value(best)
    if not asked_years and answers:
        return None  # the ranker's sentence holds a value; only a lexical tie-break is left
    answers = answers and asked_years & set(_YEAR.findall(best))
    found, found_share = None, share(best) if answers else 0.0
    seen = set()
    for cand in candidates:
        chunk = cand.chunk
        # the ranker's best sentence names the right document far more often than the
        # right line: a row in another document's table matches only by a shared word
        if chunk.id in seen or chunk.source != candidates[0].chunk.source:
            continue
        seen.add(chunk.id)
        for head, row, names in _rows(chunk.sentences, asked_years, pair_words):
            if not asked_years and not holds_value(row.text):
                continue  # under a year's header the cells are the values, often bare
            s = share(names)
            if s > found_share:
                # a head without a value of the asked form labels the columns
                header = head if head is not row and (
                    is_header(head.text) or not holds_value(head.text)) else None
                found_share = s
                found = (header and by_place[(chunk.id, header.start)],
                         by_place[(chunk.id, row.start)])
    return found


def _rows(sentences, asked_years: set[str], pair_words: int):
    """(header, row, the text that names what the row holds) for each table row of a
    chunk. With asked years: the rows under a header holding one of them, and the rows
    labelled by one of them ("2024 162 71"), which are named by the lines above them.
    Without: every row or label-and-value line, under its column labels."""
    if asked_years:
        for i, head in enumerate(sentences):
            if head.heading or not is_header(head.text) or not asked_years & set(
                    _YEAR.findall(head.text)):
                continue
            for row in sentences[i + 1:]:
                if row.heading or not is_row(row.text):
                    break
                yield head, row, row.text
    for head, row, above in _runs(sentences, pair_words):
        if not asked_years:
            yield head, row, row.text
        elif head is not row and _year_label(row.text) in asked_years:
            yield head, row, above


def _year_label(text: str) -> str | None:
    """The year a row starts with, in a table with one row per year."""
    label = text.split(maxsplit=1)[0] if text.strip() else ""
    return label if _YEAR.fullmatch(label) and is_row(text) else None


def _runs(sentences, pair_words: int):
    """(head, line, the run's lines above it that are no rows) for each table-like line.
    The head is the column labels above the line in its run of table-like lines ("Jaar
    Loonsom Uitgaven"), which say more about the cells than a caption above them: the
    first of the nearest lines that hold no number, since labels often wrap onto a second
    line. Without such lines, the run's first line."""
    first = labels = None
    above: list[str] = []
    after_labels = False  # the line before held no number
    for s in sentences:
        if s.heading or not (is_row(s.text) or is_header(s.text)
                             or is_pair(s.text, pair_words)):
            first = labels = None
            above, after_labels = [], False
            continue
        first = first or s
        yield labels or first, s, " ".join(above)
        numberless = not _CELL.search(s.text)
        if numberless and not after_labels:
            labels = s
        after_labels = numberless
        if numberless or not is_row(s.text):
            above.append(s.text)
