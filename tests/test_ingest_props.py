"""Property tests: whatever text comes in, cleaning and chunking never raise and every
chunk stays provable against the original lines."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import chunk_document, document_from_text, quote_in_lines
from ingest.clean import clean_lines, prepare, strip_urls
from ingest.verify import source_stream, traceability_problems
from vraagbaak.settings import Settings

DEFAULT = Settings()
SMALL = Settings(chunk_target_words=8, chunk_max_words=12, chunk_min_words=3)

# Pieces that hit the special cases: headings, list markers, hyphenation, URLs and their
# wrapped tails, abbreviations, invisible and bidi characters, RTL scripts, ligatures.
# fmt: off
TOKENS = [
    "de", "gemeente", "Enschede", "subsidie", "is", "een", "Het", "college", "wil",
    "Onderwerp", "Onderwerp 1A", "DEEL 2:", "Artikel 3 -", "Hoofdstuk", "1.", "2.3", "4)",
    "•", "\uf0b7", "▪", "-", "–", "*", "verduur-", "zaming", "btw-", "en", "speel-",
    "https://x.nl/a?b=1", "bb5a-12f4", "doc/2?x=1", "www.overheid.nl", "file:///c:/a b",
    "o.a.", "ca.", "t.b.v.", "K.", "Einddatum:", ".", "…", "?", "!", ":", ";", ",", "(", ")",
    "€", "ë", "ö", "ß", "ﬁ", "e\u0301", "\u0301", "İ", "½", "שלום", "مرحبا", "日本",
    "\u200b", "\u200e", "\u202e", "\u2066", "\ufeff", "\u00ad", "\x00", "\x01", "\t", "\x0c",
    "\u2028", "\u00a0", "#", "##", "**", "`", "[a](https://b.nl)", "|",
]
# fmt: on
line = st.lists(st.sampled_from(TOKENS), max_size=14).map(" ".join)
structured = st.lists(
    st.one_of(line, st.just(""), st.just(" "), st.text(max_size=20)), max_size=40
).map("\n".join)
separators = st.sampled_from(["\n", "\r\n", "\r"])
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(text: str, kind: str, cfg: Settings) -> None:
    doc = document_from_text(text, source="x." + kind, kind=kind)
    chunks = chunk_document(doc, cfg)
    assert traceability_problems(doc, chunks) == []
    for c in chunks:
        assert len(c.text.split()) <= cfg.chunk_max_words


@FAST
@given(st.text())
def test_arbitrary_text_is_traceable(text):
    _check(text, "txt", DEFAULT)


@FAST
@given(structured, st.sampled_from(["txt", "md"]), st.sampled_from([DEFAULT, SMALL]))
def test_structured_text_is_traceable(text, kind, cfg):
    _check(text, kind, cfg)


@FAST
@given(st.lists(line, min_size=1, max_size=30), separators)
def test_line_endings_do_not_shift_lines(lines, sep):
    doc = document_from_text(sep.join(lines))
    assert len(doc.lines) == len(lines) - (lines[-1] == "")
    assert traceability_problems(doc, chunk_document(doc, SMALL)) == []


@FAST
@given(st.lists(st.one_of(line, st.text(max_size=30)), max_size=20), st.sampled_from(["txt", "md"]))
def test_cleaning_only_removes_what_the_verifier_ignores(lines, kind):
    """The word stream of the cleaned lines equals the verifier's view of the originals:
    cleaning drops invisible characters, symbols and URLs, never a letter or digit."""
    cleaned = [c.full for c in clean_lines(lines, kind)]
    assert source_stream(cleaned)[0] == source_stream(lines)[0]
    assert len(strip_urls([prepare(x) for x in lines])) == len(lines)


@FAST
@given(structured)
def test_a_foreign_word_is_never_found(text):
    doc = document_from_text(text)
    for c in chunk_document(doc, SMALL):
        for s in c.sentences:
            lines = doc.lines[s.line_start - 1 : s.line_end]
            assert not quote_in_lines(s.text + " qqxzzq", lines)
            assert not quote_in_lines("qqxzzq " + s.text, lines)
