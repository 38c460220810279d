"""Line cleaning that never invents, reorders or drops a word silently.

Every answer must be provable against the original lines, so cleaning may only remove
characters that carry no words (invisible and control characters, bullet glyphs, markup
symbols, extra spaces) plus URLs. ``verify.quote_in_lines`` applies the very same
``prepare`` and ``strip_urls`` to the original lines, so a cleaned sentence always occurs
word for word, contiguously, in the lines it claims to come from.

Running page headers and footers ("Gemeente X – Nota 2026   pagina 3") are the one kind
of line dropped whole: ``page_furniture`` finds them from the whole document, and the
verifier blanks the same lines, so a sentence that runs across a page break is one
sentence and still provable.

URLs are removed because a 150-character link is a few words for the chunker but 60+
tokens for the embedder; a link split over two PDF lines leaves a tail like
``bb5a717c?documentId=...`` on the next line, which is removed as well.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# Removed without leaving a gap: they sit *inside* words (soft hyphen, zero-width joiners)
# or only steer rendering (bidi controls, BOM). NUL bytes come from broken PDF extraction.
INVISIBLE = frozenset(
    "\x00\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)

# Bullet glyphs from Word/PDF lists. Private-use characters (U+F0B7 "", U+F0A7, U+F0D8:
# Symbol/Wingdings bullets) are caught by their category instead of being listed.
BULLETS = "•◦▪▫■□●○◆◇►▸▹▶➢➣➤➔→✓✔✗✘·∙‣⁃"
_BULLET_RE = re.compile(f"^[{re.escape(BULLETS)}]+\\s*")
_DASH_RE = re.compile(r"^[-–—*+]\s+(?=\S)")
_NUMBER_RE = re.compile(r"^\(?(?:\d{1,3}|[a-z])[.)]\s+\S")

URL_RE = re.compile(r"(?:https?|ftp|file)://[^\s)\]>]*", re.IGNORECASE)
_URL_TAIL_HEX = re.compile(r"[0-9A-Fa-f]{4,}(?:-[0-9A-Fa-f]*)*")
_URL_TAIL_SLUG = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]*)+")
_FIRST_TOKEN = re.compile(r"\s*(\S+)")

# A page number in a running footer: "pagina 3", "blz. 4", "3 van 12", "… | 3", "- 3 -".
_PAGE_NUMBER = re.compile(
    r"\b(?:pagina|page|blz\.?)\s*\d+|\b\d+\s*(?:van|of|/)\s*\d+\s*$"
    r"|(?:^|\s)[|–—-]\s*\d{1,4}\s*[|–—-]?\s*$",
    re.IGNORECASE,
)
_LIST_START = re.compile(rf"^(?:[{re.escape(BULLETS)}]|[-–—*+]\s|\(?(?:#|[a-z])[.)])")
# A contents entry: a title, a dot leader and the page it starts on.
_CONTENTS_ENTRY = re.compile(r"\S.*?(?:\.\s?){4,}\s*\d{1,4}\s*$|\S.*?…{2,}\s*\d{1,4}\s*$")
# "Inhoud" above a contents list whose entries have no dot leader ("1  Aanleiding",
# "Bijlage  Overzicht strooiacties"): read as headings, the last entry became the parent
# of every section after it.
_CONTENTS_HEADING = re.compile(r"(?:inhoud|inhoudsopgave|inhoudstafel)\s*:?", re.IGNORECASE)
_PAGE_REF = re.compile(r"(?:\s*[.…]){2,}\s*\d{1,4}$|\s+\d{1,4}$")
CONTENTS_MIN_ENTRIES = 3  # fewer short lines under "Inhoud" are a section, not a list
CONTENTS_MAX_ENTRIES = 60
CONTENTS_MAX_CHARS = 100
PAGED_KINDS = frozenset({"txt", "pdf"})
FURNITURE_MAX_CHARS = 140  # longer lines are text, whatever repeats
HEADER_REACH = 3  # lines between a running header and the footer of its page break

# Markdown syntax that is pure decoration (never letters or digits).
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}(?=\s|$)|\s+#+\s*$")
_MD_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
_MD_RULE = re.compile(r"^\s{0,3}(?:(?:[-=*_~`]\s*){3,}|=+|-+)\s*$")
_MD_SYMBOLS = re.compile(r"\*+|`+|~~|__+|\|")
_MD_EMPTY_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*\)")  # "[tekst](url)" once the URL is gone
# A pipe table's delimiter row ("| --- | :---: |") under its header row
_MD_DELIMITER = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_MD_PIPE = re.compile(r"(?<!\\)\|")


def page_furniture(lines: Sequence[str]) -> frozenset[int]:
    """0-based indices of running page footers and headers.

    A footer recurs with only its page number changed and names that number; a header is
    a line that recurs too and stands within ``HEADER_REACH`` lines of such a footer at
    every occurrence after the first. A label repeated in the text ("Opgave", "Einddatum:
    2026") carries no page number and stays.
    """
    spaced = [" ".join(line.split()) for line in lines]
    shapes = [re.sub(r"\d+", "#", line) for line in spaced]
    counts = Counter(s for s in shapes if s and len(s) <= FURNITURE_MAX_CHARS)
    variants: dict[str, set[str]] = {}
    for line, s in zip(spaced, shapes, strict=True):
        if counts[s] >= 2:
            variants.setdefault(s, set()).add(line)
    # the same shape with different page numbers
    footers = {i for i, s in enumerate(shapes)
               if len(variants.get(s, ())) > 1 and _PAGE_NUMBER.search(lines[i])}
    if not footers:
        return frozenset()
    near = {j for i in footers for j in range(i - HEADER_REACH, i + HEADER_REACH + 1)}
    # a running header recurs at (nearly) every page break; a heading or list item that
    # merely appears twice (contents page, summary) is not one
    enough = max(3, len(footers) - 1)
    by_shape: dict[str, list[int]] = {}
    for i, s in enumerate(shapes):
        if counts[s] >= enough and i not in footers and not _LIST_START.match(s):
            by_shape.setdefault(s, []).append(i)
    # the first occurrence may be the title on the cover page: it stays unless it is at a break
    headers = {i for ids in by_shape.values() if all(i in near for i in ids[1:])
               for i in ids if i in near}
    return frozenset(footers | headers)


def contents_entries(lines: Sequence[str]) -> frozenset[int]:
    """0-based indices of table-of-contents lines ("4 Schuldhulpverlening ...... 7", or
    the list under an "Inhoud" line): they repeat the section titles, so they drew
    questions about a section to the contents page and were read as headings themselves."""
    found = {i for i, line in enumerate(lines) if _CONTENTS_ENTRY.match(line.strip())}
    for i, line in enumerate(lines):
        if _CONTENTS_HEADING.fullmatch(line.strip()):
            found |= _contents_list(lines, i)
    return frozenset(found)


def _contents_list(lines: Sequence[str], head: int) -> set[int]:
    """The "Inhoud" line and the entries under it: short lines without sentence
    punctuation, up to the first blank line or the first title seen before (the text has
    begun with its first heading). Empty when too few such lines follow."""
    j = head + 1
    while j < len(lines) and not lines[j].strip() and j <= head + 2:
        j += 1  # a blank line may stand between the heading and its list
    entries: list[int] = []
    titles: set[str] = set()
    while j < len(lines) and len(entries) < CONTENTS_MAX_ENTRIES:
        text = " ".join(lines[j].split())
        title = _PAGE_REF.sub("", text).lower()
        if (not text or len(text) > CONTENTS_MAX_CHARS or not text[0].isalnum()
                or (text[-1] in ".,;:!?" and not _CONTENTS_ENTRY.match(text))
                or title in titles):
            break
        titles.add(title)
        entries.append(j)
        j += 1
    return {head, *entries} if len(entries) >= CONTENTS_MIN_ENTRIES else set()


def furniture_of(lines: Sequence[str], kind: str) -> frozenset[int]:
    """Page furniture of a paged document (TXT from PDF, PDF): running headers and
    footers, and contents entries. Markup has no pages, but a Word or HTML document often
    opens with a typed contents list, and its "1. Inleiding ..... 3" lines were read as
    numbered headings, one near-empty section each, that took retrieval's top places."""
    if kind not in PAGED_KINDS:
        return contents_entries(lines)
    return page_furniture(lines) | contents_entries(lines)


def without_furniture(lines: Sequence[str], kind: str) -> list[str]:
    """The lines with page furniture (running headers and footers, contents entries)
    blanked, same length and numbering: what a quote is proven against."""
    drop = furniture_of(lines, kind)
    return ["" if i in drop else line for i, line in enumerate(lines)]


def split_lines(text: str) -> list[str]:
    """Split like an editor does (\\n, \\r\\n, \\r), not like str.splitlines, which also
    splits on form feeds and U+2028 and would shift every cited line number."""
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


_PREPARE_CACHE: dict[str, str] = {}


def _prepare_char(ch: str) -> str:
    out = _PREPARE_CACHE.get(ch)
    if out is None:
        if ch in INVISIBLE:
            out = ""
        elif ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp"):
            out = " "
        else:
            out = ch
        _PREPARE_CACHE[ch] = out
    return out


def prepare(raw: str) -> str:
    """Drop invisible characters; every other control/format/private-use char and every
    kind of space becomes a plain space (a word boundary, as it was visually)."""
    if raw.isascii() and raw.isprintable():
        return raw
    return "".join(_prepare_char(ch) for ch in raw)


def _is_url_tail(token: str) -> bool:
    if "://" in token:
        return False
    return (
        any(c in token for c in "/?=&%#")
        or _URL_TAIL_HEX.fullmatch(token) is not None
        or _URL_TAIL_SLUG.fullmatch(token) is not None
    )


def strip_urls(lines: Sequence[str]) -> list[str]:
    """Replace URLs (and the tail of a URL wrapped onto the next line) by a space.

    Sequential on purpose: whether a line starts with a URL tail depends only on the line
    before it, so the verifier gets identical results on any run of lines."""
    out: list[str] = []
    open_url = False
    for line in lines:
        if open_url:
            open_url = False
            m = _FIRST_TOKEN.match(line)
            if m and _is_url_tail(m.group(1)):
                rest = line[m.end(1) :]
                line = line[: m.start(1)] + " " + rest
                open_url = not rest.strip()
        if "://" in line:
            matches = list(URL_RE.finditer(line))
            if matches:
                if matches[-1].end() >= len(line.rstrip()):
                    open_url = True
                line = URL_RE.sub(" ", line)
        out.append(line)
    return out


@dataclass(frozen=True, slots=True)
class CleanLine:
    text: str  # cleaned; a leading list marker ("-", "•", "") removed
    full: str  # cleaned, leading dash kept: used when the dash turns out to be punctuation
    marker: str  # "", "glyph", "dash" or "number"
    # Cells separated by wide gaps: text extracted from a PDF keeps a table's columns
    # apart with runs of spaces, and prose never has two such runs on one line.
    columns: int = 1
    # "Portefeuillehouder: wethouder J. Bakkenes", "Behandelend ambtenaar: S. Hartgers",
    # "Datum    8 juli 2025": one to three words and a colon, or one word and a column
    # gap; a line of a letter's or proposal's metadata block
    label: bool = False
    # A Markdown table row, its cells joined by " | " as Word's and HTML's rows are
    row: bool = False
    # "Portefeuillehouder: wethouder …", capitalised and not a list item: a field of a
    # metadata block never continues the line above, even when that line ("Vastgesteld …
    # op 9 december 2025") lacks a full stop, and only a lowercase line continues it (a
    # bulleted definition, "• Regio Envelop: het bedrag …", wraps like any item)
    field: bool = False


_EMPTY = CleanLine("", "", "")
_COLUMN_GAP = re.compile(r"\s*\t\s*|\s{3,}")
# One to three words and a colon: "Portefeuillehouder: ", "Behandelend ambtenaar: "
_FIELD_NAME = r"[\w-]*(?: [^\W\d_][\w-]*){0,2}:\s+"
_LABEL = re.compile(rf"^\s*[^\W\d_](?:{_FIELD_NAME}|[\w-]*(?:\s{{2,}}|\t))\S")
_FIELD = re.compile(rf"^[A-Z]{_FIELD_NAME}\S")
TABLE_COLUMNS = 3  # a line of this many cells is a table row: never joined, never a heading


def markdown_tables(lines: Sequence[str]) -> tuple[frozenset[int], frozenset[int]]:
    """(rows, delimiter rows) of the pipe tables in Markdown ``lines``: a header row, the
    delimiter row under it, and the lines holding a pipe after that. Read as paragraph
    text, a table's rows ran together into one sentence with the delimiter's dashes."""
    rows: set[int] = set()
    delimiters: set[int] = set()
    for n in range(1, len(lines)):
        line, head = lines[n], lines[n - 1]
        if "|" in line and "-" in line and _MD_DELIMITER.match(line) and "|" in head:
            delimiters.add(n)
            rows.add(n - 1)
            k = n + 1
            while k < len(lines) and lines[k].strip() and "|" in lines[k]:
                rows.add(k)
                k += 1
    return frozenset(rows), frozenset(delimiters)


def _markdown_text(s: str) -> str:
    """``s`` without Markdown's decoration: emphasis, code ticks, pipes, empty links."""
    return " ".join(_MD_SYMBOLS.sub(" ", _MD_EMPTY_LINK.sub(r"\1", s)).split())


def _markdown_row(s: str) -> CleanLine:
    cells = [_markdown_text(cell) for cell in _MD_PIPE.split(s.strip().strip("|"))]
    text = " | ".join(cell for cell in cells if cell)
    return CleanLine(text, text, "", len(cells), row=True) if text else _EMPTY


def clean_lines(lines: Sequence[str], kind: str = "txt",
                drop: frozenset[int] = frozenset()) -> list[CleanLine]:
    """One CleanLine per original line (same index), empty text for lines with no words
    and for the ``drop`` lines (page furniture)."""
    prepared = [prepare(line) for line in lines]
    rows, delimiters = markdown_tables(lines) if kind == "md" else (frozenset(), frozenset())
    out: list[CleanLine] = []
    for n, (raw, s) in enumerate(zip(lines, strip_urls(prepared), strict=True)):
        if not s or s.isspace() or n in drop or n in delimiters:
            out.append(_EMPTY)
            continue
        if n in rows:
            out.append(_markdown_row(s))
            continue
        marker = ""
        lead = next((c for c in raw if not (c.isspace() or c in INVISIBLE)), "")
        if lead and (lead in BULLETS or unicodedata.category(lead) == "Co"):
            marker = "glyph"
        if kind == "md":
            s = _MD_QUOTE.sub("", _MD_HEADING.sub(" ", s))
            if _MD_RULE.match(s):
                s = ""
        columns = len(_COLUMN_GAP.split(s.strip()))
        s = " ".join(s.split())
        if s and s[0] in BULLETS:
            s = _BULLET_RE.sub("", s)
        full = s
        if marker != "glyph":
            m = _DASH_RE.match(s)
            if m:
                marker, s = "dash", s[m.end() :]
            elif _NUMBER_RE.match(s):
                marker = "number"
        if kind == "md":
            s, full = _markdown_text(s), _markdown_text(full)
        if not s:
            out.append(_EMPTY)
            continue
        # a lower-case line continues a sentence, whatever spacing justified text left
        # after its first word, unless a column gap sets the word apart ("boa    buiten-
        # gewoon opsporingsambtenaar" in a list of abbreviations)
        label = bool(_LABEL.match(raw)) and (s[:1].isupper() or columns >= 2)
        field = not marker and bool(_FIELD.match(full))
        out.append(CleanLine(s, full, marker, columns, label, field=field))
    return out
