"""Sentence-aware chunks that never cross a top-level section.

Sentences are found with a regex splitter tuned for Dutch (abbreviations such as "o.a.",
"t.b.v.", "art.", initials, enumerations). pysbd ("nl") was measured on the 350 kB of demo
text: 6.1 s against 0.01 s here, and 99% of our boundaries are pysbd boundaries too (pysbd
also splits before lowercase words, which in PDF text are mostly broken lines). A sentence
is never cut, unless it alone exceeds ``chunk_max_words``: then it is split at clause
boundaries (, ; : and dashes), and only failing those at word boundaries.

Units (headings and sentences) are packed greedily up to ``chunk_target_words``; a heading
starts a new chunk once the current one has ``chunk_min_words``, so small sections merge
with their neighbours under the same top-level heading instead of becoming useless tiny
chunks. Each chunk repeats the last ``chunk_overlap_sentences`` sentence(s) of the previous
chunk when both are in the same section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING

from ingest.abbreviations import OPENERS, is_abbreviation
from ingest.clean import prepare
from ingest.structure import Block, analyse
from ingest.types import Chunk, Document, Sentence
from ingest.verify import has_words

if TYPE_CHECKING:
    from vraagbaak.settings import Settings

_END = re.compile(r"[.!?…]+[\"'”’)\]¹²³⁴⁵⁶⁷⁸⁹⁰]*\s+")  # a footnote mark may follow
_CLAUSE = re.compile(r"[,;:]\s+|\s+[–—-]\s+")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) in ``text``; ends exclude the trailing whitespace."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        nxt = m.end()
        if nxt >= len(text):
            break
        c = text[nxt]
        if c in OPENERS and nxt + 1 < len(text):
            c = text[nxt + 1]
        if not (c.isupper() or c.isdigit()):
            continue
        if text[m.start()] == ".":
            token = text[text.rfind(" ", start, m.start()) + 1 : m.start()]
            if is_abbreviation(token):
                continue
        end = m.start() + len(m.group().rstrip())
        if end > start:
            spans.append((start, end))
        start = nxt
    end = len(text.rstrip())
    if end > start:
        spans.append((start, end))
    return spans


def _word_slices(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    words = [m.span() for m in re.finditer(r"\S+", text[start:end])]
    return [
        (start + words[i][0], start + words[min(i + size, len(words)) - 1][1])
        for i in range(0, len(words), size)
    ]


def split_long(
    text: str, start: int, end: int, max_words: int, target: int
) -> list[tuple[int, int]]:
    """Cut an over-long sentence at clause boundaries into pieces of at most max_words."""
    if len(text[start:end].split()) <= max_words:
        return [(start, end)]
    cuts = [start] + [m.end() for m in _CLAUSE.finditer(text, start, end)] + [end]
    clauses = [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if text[a:b].strip()]
    pieces: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    cur_words = 0
    for a, b in clauses:
        words = len(text[a:b].split())
        if words > max_words:
            if cur:
                pieces.append(cur)
                cur, cur_words = None, 0
            pieces.extend(_word_slices(text, a, b, target))
            continue
        if cur and cur_words + words > target:
            pieces.append(cur)
            cur, cur_words = None, 0
        cur = (cur[0] if cur else a, b)
        cur_words += words
    if cur:
        pieces.append(cur)
    out = []
    for a, b in pieces:
        a += len(text[a:b]) - len(text[a:b].lstrip())
        b -= len(text[a:b]) - len(text[a:b].rstrip())
        if b > a:
            out.append((a, b))
    return out


@dataclass(slots=True)
class _Unit:
    block: int
    start: int
    end: int
    words: int
    heading: bool


def _units(blocks: list[Block], max_words: int, target: int) -> list[_Unit]:
    units: list[_Unit] = []
    for bi, b in enumerate(blocks):
        if b.heading and len(b.text.split()) <= max_words:
            spans = [(0, len(b.text))]
        else:
            spans = [
                piece
                for s, e in split_sentences(b.text)
                for piece in split_long(b.text, s, e, max_words, target)
            ]
        block_units: list[_Unit] = []
        for s, e in spans:
            if not has_words(b.text[s:e]):
                # punctuation only ("…", "?"): glue it to the sentence before, if that
                # stays within the maximum; otherwise leave it out (it has no words)
                if block_units:
                    last = block_units[-1]
                    words = len(b.text[last.start : e].split())
                    if words <= max_words:
                        last.end, last.words = e, words
                continue
            heading = b.heading and not block_units
            block_units.append(_Unit(bi, s, e, len(b.text[s:e].split()), heading))
        units.extend(block_units)
    return units


def _pack(units: list[_Unit], blocks: list[Block], settings: Settings) -> list[tuple[int, int]]:
    """Ranges [i, j] of unit indexes (inclusive) for one top-level section."""
    target, max_w = settings.chunk_target_words, settings.chunk_max_words
    min_w, overlap = settings.chunk_min_words, settings.chunk_overlap_sentences
    ranges: list[tuple[int, int]] = []
    start, words = 0, 0
    for i, u in enumerate(units):
        if i > start:
            run = u.heading and units[i - 1].heading  # consecutive headings stay together
            if u.heading and not run and words >= min_w:
                ranges.append((start, i - 1))
                start, words = i, 0
            elif words + u.words > max_w or (
                words + u.words > target and words >= min_w and not run
            ):
                end = i - 1
                while (  # headings at the end belong to the text that follows them
                    end > start
                    and units[end].heading
                    and sum(x.words for x in units[end : i + 1]) <= max_w
                ):
                    end -= 1
                ranges.append((start, end))
                new = end + 1
                path = blocks[u.block].path
                k = 0
                while (
                    k < overlap
                    and new - 1 > start
                    and not units[new - 1].heading
                    and blocks[units[new - 1].block].path == path
                    and sum(x.words for x in units[new - 1 : i + 1]) <= max_w
                ):
                    new -= 1
                    k += 1
                start = new
                words = sum(x.words for x in units[start:i])
        words += u.words
    if units:
        ranges.append((start, len(units) - 1))
    # a tiny tail joins the chunk before it when that stays within the maximum
    while len(ranges) >= 2:
        (a, _), (c, d) = ranges[-2], ranges[-1]
        tail = sum(x.words for x in units[c : d + 1])
        merged = sum(x.words for x in units[a : d + 1])
        if tail >= min_w or merged > max_w:
            break
        ranges[-2:] = [(a, d)]
    return ranges


def _common_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    first = paths[0]
    n = len(first)
    for p in paths[1:]:
        n = min(n, len(p))
        for k in range(n):
            if p[k] != first[k]:
                n = k
                break
    return first[:n]


def chunk_document(doc: Document, settings: Settings) -> list[Chunk]:
    """Chunks in document order; every chunk and sentence carries its original lines."""
    blocks = analyse(doc)
    units = _units(blocks, settings.chunk_max_words, settings.chunk_target_words)
    pages = doc.pages

    def page(line: int) -> int | None:
        return pages[line - 1] if 0 < line <= len(pages) else None

    drafts = []  # [line_start, line_end, text, section, sentences]
    for _, group in groupby(range(len(units)), key=lambda i: blocks[units[i].block].top):
        idx = list(group)
        sub = units[idx[0] : idx[-1] + 1]
        for a, b in _pack(sub, blocks, settings):
            parts: list[str] = []
            sentences: list[Sentence] = []
            pos = 0
            prev_block = -1
            for u in sub[a : b + 1]:
                blk = blocks[u.block]
                if parts:
                    sep = " " if u.block == prev_block else "\n"
                    parts.append(sep)
                    pos += 1
                text = blk.text[u.start : u.end]
                ls, le = blk.line_at(u.start), blk.line_at(u.end - 1)
                sentences.append(Sentence(text, pos, pos + len(text), ls, le, page(ls),
                                          heading=u.heading))
                parts.append(text)
                pos += len(text)
                prev_block = u.block
            section = _common_prefix([blocks[u.block].path for u in sub[a : b + 1]])
            drafts.append(
                [
                    min(s.line_start for s in sentences),
                    max(s.line_end for s in sentences),
                    "".join(parts),
                    section,
                    tuple(sentences),
                ]
            )
    _cover_all_lines(drafts, doc.lines)
    title = doc.title
    return [
        Chunk(
            id=Chunk.make_id(doc.source, ls, le, text),
            source=doc.source,
            title=title,
            section=section,
            text=text,
            line_start=ls,
            line_end=le,
            page=page(ls),
            sentences=sents,
        )
        for ls, le, text, section, sents in drafts
    ]


def _cover_all_lines(drafts: list[list], lines) -> None:
    """Stretch spans over lines no sentence came from (URL lists, lone bullets, "……"), so
    every non-empty original line can be reached from some chunk."""
    if not drafts:
        return
    covered = bytearray(len(lines) + 2)
    for ls, le, *_ in drafts:
        covered[ls : le + 1] = b"\x01" * (le - ls + 1)
    k = 0
    for n in range(1, len(lines) + 1):
        if covered[n] or not prepare(lines[n - 1]).strip():
            continue
        while k + 1 < len(drafts) and drafts[k + 1][0] <= n:
            k += 1
        d = drafts[k]
        if d[0] <= n:
            d[1] = max(d[1], n)
        else:
            d[0] = n  # before the first chunk
