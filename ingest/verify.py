"""Check that a quote really occurs in the original lines it is attributed to.

Exact string comparison cannot work: chunk text is cleaned (broken lines joined,
hyphenation and bullets removed, URLs and invisible characters dropped). So we compare
the stream of letters, digits and combining marks (per character compatibility-decomposed
and case-folded) and additionally require that every word boundary in the quote is a word
boundary in the source and that the match starts and ends on one: "de gemeente" will not
match inside "ondergemeente". The source lines go through the cleaner's own ``prepare``
and ``strip_urls``, so text the cleaner dropped never breaks contiguity.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from ingest.clean import prepare, strip_urls, without_furniture

_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
_FOLD: dict[str, str] = {}


def _fold(ch: str) -> str:
    """Letters/digits/marks of ``ch`` (folded); anything else becomes a space (a gap)."""
    out = _FOLD.get(ch)
    if out is None:
        decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", ch).casefold())
        out = "".join(c if unicodedata.category(c)[0] in "LNM" else " " for c in decomposed)
        _FOLD[ch] = out
    return out


def _stream(text: str) -> tuple[str, list[bool]]:
    """(folded word characters, boundary flags); flags[i] is True when a gap precedes
    character i; one extra trailing flag (always True) stands for the end."""
    if text.isascii():
        chars: list[str] = []
        bounds: list[bool] = []
        for m in _ASCII_WORD.finditer(text):
            word = m.group().lower()
            chars.append(word)
            bounds.append(True)
            bounds.extend([False] * (len(word) - 1))
        bounds.append(True)
        return "".join(chars), bounds
    out: list[str] = []
    bounds = []
    gap = True
    for ch in text:
        for c in _fold(ch):
            if c == " ":
                gap = True
            else:
                out.append(c)
                bounds.append(gap)
                gap = False
    bounds.append(True)
    return "".join(out), bounds


def has_words(text: str) -> bool:
    """True when ``text`` holds at least one letter or digit the verifier would compare."""
    return bool(_stream(prepare(text))[0])


def source_stream(lines: Sequence[str]) -> tuple[str, list[bool]]:
    return _stream("\n".join(strip_urls([prepare(line) for line in lines])))


def quote_in_lines(quote: str, lines: Sequence[str]) -> bool:
    """True if the words of ``quote`` occur contiguously, in order, in ``lines``.

    Case, punctuation, bullets, hyphenation at line ends, invisible characters and URLs do
    not matter; words do. A quote without any letter or digit is never "found"."""
    q, qb = _stream(prepare(quote))
    if not q:
        return False
    s, sb = source_stream(lines)
    inner = [i for i in range(1, len(q)) if qb[i]]
    pos = s.find(q)
    while pos != -1:
        end = pos + len(q)
        if sb[pos] and sb[end] and all(sb[pos + i] for i in inner):
            return True
        pos = s.find(q, pos + 1)
    return False


def traceability_problems(doc, chunks) -> list[str]:
    """Everything that would make a citation unprovable; [] means the chunks are sound.

    Checks that each sentence is a slice of its chunk, that sentence and chunk text occur
    in their own line spans, that a chunk holds nothing but its sentences, and that every
    original line with words is inside some chunk's span (so nothing is silently lost).
    Cheap enough to run on every ingest in CI; the indexer may call it too."""
    from ingest.types import Chunk

    problems: list[str] = []
    lines = without_furniture(doc.lines, doc.kind)  # page furniture is dropped
    covered = bytearray(len(lines) + 2)
    for c in chunks:
        where = f"{c.source}:{c.line_start}-{c.line_end}"
        if not 1 <= c.line_start <= c.line_end <= len(lines):
            problems.append(f"{where}: span outside the document")
            continue
        covered[c.line_start : c.line_end + 1] = b"\x01" * (c.line_end - c.line_start + 1)
        span = lines[c.line_start - 1 : c.line_end]
        if c.id != Chunk.make_id(c.source, c.line_start, c.line_end, c.text):
            problems.append(f"{where}: id does not match")
        if c.page != doc.pages[c.line_start - 1]:
            problems.append(f"{where}: page {c.page} != {doc.pages[c.line_start - 1]}")
        if not quote_in_lines(c.text, span):
            problems.append(f"{where}: chunk text not found in its lines")
        rest = list(c.text)
        last_end = 0
        for s in c.sentences:
            sw = f"{where} sentence {s.line_start}-{s.line_end}"
            if c.text[s.start : s.end] != s.text or s.start < last_end:
                problems.append(f"{sw}: offsets do not match the chunk text")
            last_end = s.end
            rest[s.start : s.end] = " " * (s.end - s.start)
            if not c.line_start <= s.line_start <= s.line_end <= c.line_end:
                problems.append(f"{sw}: outside the chunk span")
                continue
            if s.page != doc.pages[s.line_start - 1]:
                problems.append(f"{sw}: wrong page")
            if not quote_in_lines(s.text, lines[s.line_start - 1 : s.line_end]):
                problems.append(f"{sw}: {s.text[:60]!r} not found in its own lines")
        if "".join(rest).strip():
            problems.append(f"{where}: chunk text outside its sentences")
    if not chunks and not source_stream(lines)[0]:
        return problems  # nothing but URLs/symbols: nothing to index, nothing lost
    for n, line in enumerate(lines, 1):
        if not covered[n] and has_words(line):
            problems.append(f"{doc.source}:{n}: line with words is in no chunk")
    return problems
