"""Headings, section paths and text blocks that still know their original lines.

Markdown, DOCX and HTML carry their headings in markup (``Document.headings``); PDF and
plain text only have layout left, so headings are recognised with general rules for Dutch
policy texts: keyword headings (Deel, Hoofdstuk, Onderwerp, Bijlage; Afdeling,
Paragraaf, Artikel), numbered headings ("2.", "2.3 ...") and short title lines standing
apart. The rules look at blank lines relative to the document's own habits, because PDF
extraction sometimes puts a blank line after every line.

Lines are joined into blocks (paragraphs, list items) so that a sentence wrapped over
lines is one sentence again; each block keeps a map from character offset to line number.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import PurePosixPath

from ingest.abbreviations import continues_after
from ingest.clean import TABLE_COLUMNS, CleanLine, clean_lines, furniture_of
from ingest.types import Document

MARKUP_KINDS = frozenset({"md", "docx", "html"})
GENERIC_LEVEL = 6  # short title lines nest under every structural heading

_TERMINAL = ".!?;:…"
_CLOSERS = "\"'”’)]»"
_L1 = re.compile(
    r"^(?:DEEL|Deel|TITEL|Titel|HOOFDSTUK|Hoofdstuk|ONDERWERP|Onderwerp|BIJLAGE|Bijlage)"
    r"(?=$|[\s:.\-–—])"
)
_L2 = re.compile(
    r"^(?:AFDELING|Afdeling|PARAGRAAF|Paragraaf|ARTIKEL|Artikel|§)(?=$|\s*\d|\s+[IVXLC]+\b)"
)
_BARE = re.compile(r"^\w+:?$")
_SENTENCE_END = re.compile(r"[^\W\d_]{2,}[.;!?]$")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})+\.?|\d{1,2}\.)\s+(?=\S)")
# "2 Parkeerzones en tarieven": a chapter number without its dot, common in PDFs; a
# footnote ("1 Infographic.pdf (twenteboard.nl)") has a dot in its text.
_BARE_NUMBERED = re.compile(r"^(\d{1,2})\s+(?=[^.]+$)")
_LABEL_VALUE = re.compile(r":\s+\S")
# "Artikel 9. Aanvragen die te laat binnenkomen, worden niet ... genomen." is a paragraph
# of an explanatory note that starts with its article, not a heading
_SENTENCE_INSIDE = re.compile(r"[^\W\d_]{2,}[.!?](?:\s|$)")
KEYWORD_TITLE_MAX_WORDS = 12
_CONJUNCTIONS = frozenset({"en", "of", "tot", "noch", "t/m"})
_WORD = re.compile(r"\w+")
_TITLE_WORD = re.compile(r"\d+(?:\.\d+)*|\w+")  # "2.2" stays one word: another section


@dataclass(frozen=True, slots=True)
class Block:
    text: str
    starts: tuple[int, ...]  # offset in ``text`` where each source line's part begins
    lines: tuple[int, ...]  # 1-based line number of each part
    path: tuple[str, ...]  # section path, outermost first
    top: int  # counter of top-level sections: chunks never cross a change
    heading: bool

    def line_at(self, offset: int) -> int:
        return self.lines[max(bisect_right(self.starts, offset) - 1, 0)]


@dataclass(frozen=True, slots=True)
class _Head:
    level: float  # promoted title lines sit between two integer levels
    end: int  # index of the heading's last line (headings may wrap)


def _ends_terminal(s: str) -> bool:
    t = s.rstrip(_CLOSERS)
    return bool(t) and t[-1] in _TERMINAL


def _first_is_lower(s: str) -> bool:
    for ch in s:
        if ch.isalnum():
            return ch.islower()
    return False


def _first_is_upper_letter(s: str) -> bool:
    for ch in s:
        if ch.isalnum():
            return ch.isalpha() and ch.isupper()
    return False


class _Layout:
    """Document-level habits: typical line width and whether blank lines mean anything."""

    def __init__(self, cls: list[CleanLine], content: list[int]) -> None:
        lengths = sorted(len(cls[i].text) for i in content if " " in cls[i].text)
        width = lengths[int(len(lengths) * 0.9)] if lengths else 80
        self.long = 0.7 * max(width, 30)
        gaps = [b - a - 1 for a, b in zip(content, content[1:], strict=False)]
        double = bool(gaps) and sum(g == 1 for g in gaps) >= 0.5 * len(gaps)
        self.sep = 2 if double else 1  # blank lines that make a paragraph break
        self.double = double


def _strong(text: str) -> tuple[int, bool] | None:
    """(level, bare keyword) for keyword headings; None for anything else."""
    for level, rx, max_words in ((1, _L1, 25), (2, _L2, 15)):
        if rx.match(text) and len(text.split()) <= max_words and not _SENTENCE_END.search(text):
            return level, bool(_BARE.match(text))
    return None


def _numbered(text: str, bare: bool = False) -> int | None:
    """Level of a numbered heading ("2.3 Tarieven", "4. Besluit"); with ``bare``, also a
    chapter number without a dot ("2 Parkeerzones"), which the caller accepts only after a
    paragraph break: a wrapped line may start with a count."""
    m = _NUMBERED.match(text) or (_BARE_NUMBERED.match(text) if bare else None)
    if not m:
        return None
    rest = text[m.end() :]
    if not _first_is_upper_letter(rest) or len(rest.split()) > 10:
        return None
    if _ends_terminal(text) or text.rstrip(_CLOSERS).endswith(","):
        return None
    depth = m.group(1).rstrip(".").count(".") + 1
    return min(1 + depth, 5)


def _generic(text: str) -> bool:
    words = text.split()
    return (
        0 < len(words) <= 8
        and len(text) <= 70
        and _first_is_upper_letter(text)
        and text.rstrip(_CLOSERS)[-1:] not in {".", ",", ";", "!"}
        and not _LABEL_VALUE.search(text)
        and not (len(words) == 1 and text.endswith(":"))
        and text.count("(") == text.count(")")
    )


def _title_tail_ok(text: str) -> bool:
    """Shape rules for the second line of a two-line title."""
    return (
        len(text) <= 70
        and text.rstrip(_CLOSERS)[-1:] not in {".", ",", ";", "!"}
        and text.count("(") == text.count(")")
        and not _LABEL_VALUE.search(text)
    )


class _HeadingScan:
    """Walks the lines with text once; ``k`` indexes ``content`` (the non-empty lines)."""

    def __init__(self, cls: list[CleanLine], content: list[int], lay: _Layout,
                 gap_between) -> None:
        self.cls, self.content, self.lay = cls, content, lay
        self.gap_between = gap_between
        self.heads: dict[int, _Head] = {}
        self.head_end = -2

    def text(self, k: int) -> str:
        return self.cls[self.content[k]].text if 0 <= k < len(self.content) else ""

    def gap(self, k: int) -> int:
        """Blank lines between content line k-1 and k (99 at either end)."""
        if k <= 0 or k >= len(self.content):
            return 99
        return self.gap_between(self.content[k - 1], self.content[k])

    def marker(self, k: int) -> str:
        return self.cls[self.content[k]].marker if 0 <= k < len(self.content) else ""

    def add(self, k: int, level: int, end_k: int) -> int:
        self.heads[self.content[k]] = _Head(level, self.content[end_k])
        self.head_end = self.content[end_k]
        return end_k + 1

    def run(self) -> dict[int, _Head]:
        k = 0
        while k < len(self.content):
            k = self.at(k)
        _promote_parents(self.heads, self.cls, self.content)
        return self.heads

    def at(self, k: int) -> int:
        """Detect a heading starting at k; return the next k to look at."""
        lay, c = self.lay, self.cls[self.content[k]]
        if c.marker in ("glyph", "dash") or c.columns >= TABLE_COLUMNS:
            return k + 1
        text, prev, gap = c.full, self.text(k - 1), self.gap(k)
        after_head = k > 0 and self.content[k - 1] == self.head_end
        loose_before = (
            k == 0 or after_head or gap >= lay.sep or _ends_terminal(prev) or len(prev) < lay.long
        )
        strong = _strong(text)
        if strong and loose_before:
            end = self.strong_end(k, strong[1])
            words = " ".join(self.text(i) for i in range(k, end + 1))
            if len(words.split()) > KEYWORD_TITLE_MAX_WORDS and _SENTENCE_INSIDE.search(words):
                return k + 1  # a paragraph that opens with "Artikel 9.": its text answers
            return self.add(k, strong[0], end)
        nxt, gap_after = self.text(k + 1), self.gap(k + 1)
        adjacent = gap_after < lay.sep  # the next line follows without a paragraph break
        wrapped = adjacent and bool(self.marker(k + 1) or _first_is_lower(nxt))
        apart = k == 0 or gap >= 1  # a blank line before: not a line of a contents list
        level = _numbered(text, bare=apart)
        # "4.3 Nieuwbouw van IKC De Regenboog heeft de hoogste prioriteit" may run to the
        # margin: a subsection number is rarely the start of a wrapped list item
        if level and loose_before and not wrapped and (len(text) < lay.long or level >= 3):
            return self.add(k, level, k)
        strict_before = (
            k == 0
            or (after_head and gap >= 1)
            or gap >= lay.sep
            or prev.rstrip(_CLOSERS)[-1:] in {".", "!", "?"}
            or (lay.double and gap >= 1 and len(prev) < lay.long)
        )
        if not (_generic(text) and strict_before and not text[:1].isdigit()):
            return k + 1
        if not nxt or (
            not _first_is_lower(nxt)
            and (
                gap_after >= lay.sep
                or self.marker(k + 1)
                or len(nxt) >= lay.long
                or len(text.split()) <= 3
                or k == 0
                or self.label_then_break(k + 1)
            )
        ):
            return self.add(k, GENERIC_LEVEL, k)
        if (  # "Als het nieuwe college op deze lijn wil" / "bijsturen is"
            adjacent
            and _first_is_lower(nxt)
            and len(nxt) < lay.long
            and _title_tail_ok(nxt)
            and len(text.split()) + len(nxt.split()) <= 12
        ):
            after = self.text(k + 2)
            if (
                not after
                or self.gap(k + 2) >= lay.sep
                or self.marker(k + 2)
                or len(after) >= lay.long
            ):
                return self.add(k, GENERIC_LEVEL, k + 1)
        return k + 1

    def strong_end(self, k: int, bare: bool) -> int:
        """Last line of a keyword heading: a bare "Onderwerp" takes the next line, and a
        heading that ends in a comma or colon, or wraps, continues (at most 4 lines)."""
        end = k
        if bare and k + 1 < len(self.content) and self.gap(k + 1) <= 1:
            end = k + 1
        while end + 1 < len(self.content) and end - k < 3:
            nxt = self.text(end + 1)
            if (self.gap(end + 1) >= self.lay.sep or self.marker(end + 1) or _strong(nxt)
                    or self.label_line(end + 1)):
                break
            last = self.text(end)
            if last[-1] in ",:&-–" or len(last) >= self.lay.long or _first_is_lower(nxt):
                end += 1
            else:
                break
        return end

    def label_line(self, k: int) -> bool:
        """Line k is the next line of a metadata block ("Onderwerp: ..." /
        "Portefeuillehouder: ..."), not the continuation of a wrapped heading."""
        return self.cls[self.content[k]].label

    def label_then_break(self, k: int) -> bool:
        """Line k is a short "label: value" line standing alone ("Trekker: Hengelo"), the
        metadata line under a title."""
        text = self.text(k)
        return (
            len(text) < self.lay.long
            and _LABEL_VALUE.search(text) is not None
            and self.gap(k + 1) >= self.lay.sep
        )


def _promote_parents(heads: dict[int, _Head], cls: list[CleanLine], content: list[int]) -> None:
    """A title line directly followed by another heading (at most one short line between)
    is that heading's parent: "Groene daken" / "Korte omschrijving", "De opgaven" /
    "1. Naast groeien ook bloeien". Walks backwards so chains of titles nest."""
    order = sorted(heads)
    pos = {i: k for k, i in enumerate(content)}
    for a, b in reversed(list(zip(order, order[1:], strict=False))):
        ha, hb = heads[a], heads[b]
        if ha.level != GENERIC_LEVEL or hb.level <= 1:  # never above "Deel"/"Onderwerp"
            continue
        between = content[pos[ha.end] + 1 : pos[b]]
        if len(between) <= 1 and all(len(cls[i].text.split()) <= 8 for i in between):
            # just above the child, still below any structural heading that encloses both
            heads[a] = _Head((hb.level + math.ceil(hb.level - 1)) / 2, ha.end)


def _markup_headings(doc: Document, cls: list[CleanLine]) -> dict[int, _Head]:
    """The markup's headings, plus keyword headings left as plain paragraphs ("Artikel 3
    Normbedrag" under a styled "Hoofdstuk 2"): authors style some headings and type the
    rest, and a section lost there merges articles into one chunk and one citation path."""
    out = {}
    for line, level in doc.headings.items():
        i = line - 1
        if 0 <= i < len(cls) and cls[i].text:
            out[i] = _Head(max(1, min(int(level), 9)), i)
    # below the deepest styled level, so a typed article nests in its styled chapter;
    # above bold paragraphs (GENERIC_LEVEL), the loaders' other guess at typed headings
    styled = max((lv for lv in doc.headings.values() if lv < GENERIC_LEVEL), default=0)
    for i, c in enumerate(cls):
        strong = _strong(c.text) if c.text and i not in out and not c.marker else None
        if strong is not None and not strong[1]:
            out[i] = _Head(min(styled + strong[0], GENERIC_LEVEL - 0.5), i)
    return out


def _vocabulary(cls: list[CleanLine]) -> set[str]:
    return {w for c in cls if c.text for w in _WORD.findall(c.text.casefold())}


def _join_mode(prev: str, cur: str, gap: int, lay: _Layout, vocab: set[str]) -> str | None:
    """How line ``cur`` continues ``prev``: " " (space), "" (glue), "-" (drop the
    hyphen and glue) or None (new block)."""
    if len(prev) >= 2 and prev[-1] == "-" and prev[-2].isalpha():
        right = cur.split()[0]
        if _first_is_lower(cur):
            if right in _CONJUNCTIONS:
                return " "  # "speel- en sportbeleid"
            left = prev.split()[-1][:-1]
            r = right.rstrip(".,;:!?)")
            if (left + r).casefold() in vocab:
                return "-"
            if f"{left}-{r}".casefold() in vocab or "-" in left or len(left) <= 3:
                return ""
            if any(ch.isupper() or ch.isdigit() for ch in left[1:]):
                return ""
            return "-"
        if cur[:1].isalnum():
            return ""  # "Diekman-" + "Oost"
    if _first_is_lower(cur):
        return " "
    wrapped = len(prev) >= lay.long and gap <= lay.sep  # PDF page breaks leave one blank line
    if _ends_terminal(prev):
        # "… de coördinator, mevrouw I." + "(Iris) Jansen. …": a wrap, not a paragraph end
        return " " if wrapped and prev[-1] == "." and continues_after(prev.split()[-1]) else None
    # else a wrapped line, or a short line standing on its own: a title, list line or label
    return " " if wrapped else None


def _repeats(title: str, path: list[tuple[float, str]]) -> bool:
    """A heading that only repeats words of an enclosing heading is not a new section."""
    words = set(_TITLE_WORD.findall(title.casefold()))
    return bool(words) and any(words <= set(_TITLE_WORD.findall(t.casefold())) for _, t in path)


class _BlockBuilder:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.starts: list[int] = []
        self.lines: list[int] = []
        self.size = 0

    def add(self, line_no: int, text: str, mode: str) -> None:
        if self.parts:
            if mode == "-":
                self.parts[-1] = self.parts[-1][:-1]
                self.size -= 1
            elif mode == " ":
                self.parts.append(" ")
                self.size += 1
        self.starts.append(self.size)
        self.lines.append(line_no)
        self.parts.append(text)
        self.size += len(text)

    def flush(self, path: tuple[str, ...], top: int, heading: bool = False) -> None:
        if self.parts:
            self.blocks.append(
                Block(
                    "".join(self.parts), tuple(self.starts), tuple(self.lines), path, top, heading
                )
            )
        self.parts, self.starts, self.lines, self.size = [], [], [], 0


def analyse(doc: Document) -> list[Block]:
    """Blocks of cleaned text in document order, each with its section path."""
    furniture = furniture_of(doc.lines, doc.kind)
    cls = clean_lines(doc.lines, doc.kind, drop=furniture)
    content = [i for i, c in enumerate(cls) if c.text]
    lay = _Layout(cls, content)

    breaks = sorted(furniture)

    def gap(a: int, b: int) -> int:
        """Blank lines between lines a and b; a page break (furniture between) counts as
        the one blank line a plain page break leaves."""
        k = bisect_right(breaks, a)
        if k < len(breaks) and breaks[k] < b:
            return lay.sep
        return b - a - 1

    if doc.kind in MARKUP_KINDS and doc.headings:
        heads = _markup_headings(doc, cls)
    else:
        heads = _HeadingScan(cls, content, lay, gap).run()
    vocab = _vocabulary(cls) if doc.kind not in MARKUP_KINDS else set()

    out = _BlockBuilder()
    path: list[tuple[float, str]] = []
    top = 0
    skip_until = -1
    prev_i, prev_text, in_item = -1, "", False
    for i in content:
        if i <= skip_until:
            continue
        c = cls[i]
        head = heads.get(i)
        if head is not None:
            span = [j for j in range(i, head.end + 1) if cls[j].text]
            title = " ".join(cls[j].full for j in span)
            if not _repeats(title, path):
                out.flush(tuple(t for _, t in path), top)
                while path and path[-1][0] >= head.level:
                    path.pop()
                if not path:
                    top += 1
                path.append((head.level, title))
                for j in span:
                    out.add(j + 1, cls[j].full, " ")
                out.flush(tuple(t for _, t in path), top, heading=True)
                skip_until, prev_i, prev_text, in_item = head.end, head.end, "", False
                continue
        between = gap(prev_i, i)
        if c.marker == "dash":
            item = (
                doc.kind == "md"
                or not out.parts
                or in_item
                or _ends_terminal(prev_text)
                or len(prev_text) < lay.long
            )
        else:
            item = bool(c.marker)
        text = c.text if item else c.full
        # a table row is a block of its own: the row above it never continues into it;
        # so is each line of a metadata block ("Portefeuillehouder: ..." after "Datum: ...")
        table_row = c.columns >= TABLE_COLUMNS or c.row or (
            prev_i >= 0 and (cls[prev_i].columns >= TABLE_COLUMNS or cls[prev_i].row))
        after_field = prev_i >= 0 and cls[prev_i].field and not _first_is_lower(text)
        metadata = after_field or (c.label and prev_i >= 0 and (cls[prev_i].label or c.field))
        mode = None
        if out.parts and not item:
            if doc.kind == "md":
                mode = " " if between == 0 and not table_row else None
            elif doc.kind not in MARKUP_KINDS and not table_row and not metadata:
                mode = _join_mode(prev_text, text, between, lay, vocab)
        if mode is None:
            out.flush(tuple(t for _, t in path), top)
            in_item = item
        out.add(i + 1, text, " " if mode is None else mode)
        prev_i, prev_text = i, text
    out.flush(tuple(t for _, t in path), top)
    return out.blocks


def document_title(doc: Document, blocks: list[Block] | None = None) -> str:
    """First heading, else the first line with text, else the file name without suffix.

    A first heading that opens a series ("Onderwerp 1A ...", "Onderwerp 1B ...") names a
    section, not the document: prepending it to every chunk would tell the embedder that
    all of them are about the first topic, so the file name is used instead.
    """
    blocks = analyse(doc) if blocks is None else blocks
    headings = [b.text for b in blocks if b.heading]
    if headings:
        first_word = headings[0].split()[0].lower() if headings[0].split() else ""
        series = sum(1 for h in headings if h.split() and h.split()[0].lower() == first_word)
        if series >= 3:
            return PurePosixPath(doc.source).stem
        return headings[0][:200]
    if blocks:
        return blocks[0].text[:200]
    return PurePosixPath(doc.source).stem
