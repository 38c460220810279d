"""Flattened tables: "hoeveel ... in 2027?" is answered by the row under the year's header."""

from __future__ import annotations

import pytest

from qa.tables import is_header, is_row
from tests.conftest import chunk_of

BEGROTING = """Begroting beheer openbare ruimte 2025-2027

1. Inleiding

Het college wil de openbare ruimte de komende jaren beter onderhouden. In 2026 start
een nieuw bestek voor het maaien van bermen en het snoeien van bomen, omdat het oude
contract dan afloopt. Bewoners worden in 2026 betrokken bij de inrichting van hun
straat.

2. Middelen

Tabel 1. Budget per jaar (x € 1.000)
Onderdeel                  2025     2026     2027
Onderhoud wegen             120      140      160
Groenbeheer                  80       85       95
Straatverlichting            40       55       60

Het onderhoud van bruggen valt buiten deze tabel en wordt in 2026 geraamd op
€ 210.000 per jaar.
"""


@pytest.mark.parametrize("text, header, row", [
    ("Onderdeel 2025 2026 2027", True, False),
    ("2025 2026 2027 Totaal", True, False),
    ("Groenbeheer 80 85 95", False, True),
    ("Sportaccommodaties € 0,4 mln € 0,3 mln € 1,7 mln", False, True),
    ("De regeling loopt van 2025 tot 2027.", False, False),  # prose, not a table line
    ("Veldhuizen-Zuid: circa 620 woningen, start bouw in 2026;", False, False),
    ("Groenbeheer", False, False),
])
def test_table_lines_are_told_from_prose(text, header, row):
    assert (is_header(text), is_row(text)) == (header, row)


@pytest.fixture(scope="module")
def table_qa(settings, embedder, tmp_path_factory):
    from index import Index, build_index
    from qa import QA

    root = tmp_path_factory.mktemp("tables")
    (root / "docs").mkdir()
    (root / "docs" / "begroting.txt").write_text(BEGROTING, "utf-8")
    # Abstention is not what is tested here: a three-paragraph corpus says little.
    local = settings.model_copy(update={"index_dir": root / "index", "abstain_threshold": 0.0})
    build_index(root / "docs", local.index_dir, local, embedder=embedder)
    return QA(Index.load(local.index_dir, local, embedder=embedder), local)


def _line(n: int) -> str:
    return BEGROTING.split("\n")[n - 1]


def test_cell_question_quotes_its_row_and_the_header(table_qa):
    answer = table_qa.answer("hoeveel geld is er in 2026 voor groenbeheer")
    assert answer.found and "85" in answer.text
    spans = [(c.line_start, c.line_end) for c in answer.citations]
    lines = {n for a, b in spans for n in range(a, b + 1)}
    assert {_line(n).split()[0] for n in lines} >= {"Onderdeel", "Groenbeheer"}
    assert not any(_line(n).startswith(("Onderhoud", "Straatverlichting")) for n in lines)


def test_a_prose_sentence_that_answers_is_not_displaced_by_a_row(table_qa):
    answer = table_qa.answer("hoeveel kost het onderhoud van bruggen in 2026")
    assert answer.found and "210.000" in answer.text
    assert answer.citations[0].quote.rstrip().endswith(".")


class _Words:
    """Terms are lowercased words, each weighing 1: enough to test the row choice."""

    @staticmethod
    def terms(text):
        return frozenset(text.lower().split())

    def term_weights(self, text):
        return dict.fromkeys(self.terms(text), 1.0)


def _candidates(source: str, lines: list[str]):
    from qa.features import Candidate

    chunk = chunk_of([(text, False) for text in lines], source)
    return [Candidate(0, chunk, s, {}) for s in chunk.sentences]


def test_a_row_in_another_documents_table_never_answers():
    from qa.tables import table_cell

    question = "hoeveel subsidie krijgt de bieb in 2027"
    library = _candidates("bieb.txt", ["Voor 2026 bedraagt de subsidie € 1.385.000."])
    poverty = _candidates("armoede.txt", ["Post 2026 2027 2028", "Subsidies 155 155 160",
                                          "Subsidie partners 155 160 160"])
    assert table_cell(library + poverty, question, _Words()) is None
    header, row = table_cell(poverty + library, question, _Words())
    assert (header.sentence.text, row.sentence.text) == ("Post 2026 2027 2028",
                                                         "Subsidie partners 155 160 160")
