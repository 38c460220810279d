"""Files in, ``Document`` or ``Skipped`` (with a Dutch reason) out; never an exception.

Why these libraries:
- PDF: pypdf. Pure Python, actively maintained, no system packages; text per page so every
  line keeps its page number, and encryption is explicit (we refuse what an empty password
  cannot open instead of indexing garbage).
- DOCX: python-docx. The standard reader of Word's XML; it exposes paragraph styles, so
  "Heading 1"/"Kop 1"/"Title" become headings from markup instead of layout guesses.
- HTML: lxml.html (libxml2). Fast and tolerant of broken markup; we walk the tree
  iteratively, keep <main>/<article> (else <body>) and drop nav/header/footer/aside/script/
  style/form. trafilatura was tried first: on short pages its fallback glued nav text and
  the h2 into one paragraph, losing exactly the headings we cite.
- Markdown: markdown-it-py. CommonMark-correct headings (ATX and setext, never a "#"
  inside a code block) with source line numbers; the file's own lines stay the citation.
- TXT: UTF-8 first, then charset-normalizer restricted to Western code pages (cp1252,
  latin-1, iso8859-15) and only then unrestricted: on small Dutch files the unrestricted
  guess was cp775/cp1250, turning "financiële €10" into "financiļle Ć10".
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import io
import logging
import os
import re
import unicodedata
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.clean import split_lines
from ingest.structure import GENERIC_LEVEL, KEYWORD_TITLE_MAX_WORDS, document_title
from ingest.types import Document, Skipped
from ingest.verify import has_words

if TYPE_CHECKING:
    from vraagbaak.settings import Settings

log = logging.getLogger(__name__)

KINDS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
}
_MB = 1024 * 1024
_WESTERN = ["cp1252", "latin_1", "iso8859_15"]
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
_TEXT_BYTES = bytes([9, 10, 12, 13, *range(32, 256)])  # deleted: what is left are controls


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    if isinstance(exc, UnicodeDecodeError):
        return exc.object[exc.start : exc.end].decode("cp1252", errors="replace"), exc.end
    raise exc


codecs.register_error("vraagbaak-cp1252", _cp1252_fallback)


def _mb(value: float) -> str:
    return f"{value:.3g}".replace(".", ",")


# --- files --------------------------------------------------------------------------


def emphasised_title(text: str) -> bool:
    """A whole paragraph in bold that is short and unpunctuated: many Word and web
    documents make their headings ("Artikel 3 Normbedrag") bold instead of styling them,
    and without that heading the section path and the chunk border are lost."""
    text = " ".join(text.split())
    return (bool(text) and len(text.split()) <= KEYWORD_TITLE_MAX_WORDS
            and not text.endswith((".", ",", ";", ":", "!", "?")))


def iter_files(root: Path, settings: Settings | None = None) -> list[Path]:
    """Every regular, non-hidden file under ``root`` (also unsupported ones, so that they
    are reported as skipped rather than ignored), sorted by relative path."""
    root = Path(root)
    real_root = root.resolve()
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            p = Path(dirpath) / name
            if p.is_symlink() and not p.resolve().is_relative_to(real_root):
                continue  # a link must not smuggle in files from elsewhere
            if p.is_file():
                found.append(p)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _source(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.name


def load_document(path: Path, root: Path, settings: Settings) -> Document | Skipped:
    path, root = Path(path), Path(root)
    source = _source(path, root)
    try:
        return _load(path, source, settings)
    except Exception as exc:  # one bad file must never stop the run
        log.warning("inlezen mislukt: %s", source, exc_info=True)
        return Skipped(source, f"onverwachte fout bij het inlezen ({type(exc).__name__})")


def _load(path: Path, source: str, settings) -> Document | Skipped:
    ext = path.suffix.lower()
    if ext not in {e.lower() for e in settings.extensions}:
        return Skipped(source, f"onbekende extensie {ext}" if ext else "onbekende extensie (geen)")
    kind = KINDS.get(ext)
    if kind is None:
        return Skipped(source, f"geen lezer voor extensie {ext}")
    size = path.stat().st_size
    if size == 0:
        return Skipped(source, "leeg bestand")
    if size > settings.max_file_mb * _MB:
        return Skipped(source, f"bestand is groter dan {_mb(settings.max_file_mb)} MB")
    data = path.read_bytes()
    result = _READERS[kind](data, source, settings)
    if isinstance(result, Skipped):
        return result
    lines, pages, headings = result
    if not any(has_words(line) for line in lines):
        if kind == "pdf":
            return Skipped(
                source, "PDF bevat geen tekst (gescande PDF? OCR wordt niet ondersteund)"
            )
        return Skipped(source, "bestand bevat geen tekst")
    doc = Document(
        source=source,
        title="",
        kind=kind,
        lines=tuple(lines),
        pages=tuple(pages) if pages is not None else (None,) * len(lines),
        headings=headings,
        content_hash=hashlib.sha256(data).hexdigest(),
    )
    return dataclasses.replace(doc, title=document_title(doc))


# --- text ---------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes) -> tuple[str | None, str]:
    """(text, "") or (None, Dutch reason)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), ""
            except UnicodeDecodeError:
                return None, f"ongeldige tekstcodering ({encoding} met fouten)"
    binary = "binair bestand, geen tekst"
    if data.count(0) > len(data) // 1000 or _control_ratio(data) > 0.05:
        return None, binary
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode_legacy(data)
        if text is None:
            return None, "ongeldige tekstcodering: geen UTF-8 en niet te herkennen"
    if not _looks_like_text(text):
        return None, binary
    return text, ""


def _control_ratio(data: bytes) -> float:
    """Share of C0 control bytes other than tab, newline, form feed and carriage return."""
    sample = data[:200_000]
    return len(sample.translate(None, _TEXT_BYTES)) / max(len(sample), 1)


def _decode_legacy(data: bytes) -> str | None:
    bad = sum(
        1 for ch in data.decode("utf-8", errors="surrogateescape") if "\udc80" <= ch <= "\udcff"
    )
    if _UTF8_MULTIBYTE.search(data) and bad <= max(8, len(data) // 200):
        # mostly UTF-8 with a few stray bytes (pasted cp1252): keep both readable
        return data.decode("utf-8", errors="vraagbaak-cp1252")
    from charset_normalizer import from_bytes

    for kwargs in ({"cp_isolation": _WESTERN}, {}):
        best = from_bytes(data, **kwargs).best()
        if best is not None and _plausible(str(best)):
            return str(best)
    return None


def _plausible(text: str) -> bool:
    """charset-normalizer accepts random bytes as cp1252 (chaos 0.0), so a guessed
    decoding must also look like language: enough letters, and spaces between words."""
    sample = text[:100_000]
    if not sample:
        return False
    letters = sum(ch.isalpha() for ch in sample)
    spaces = sum(ch.isspace() for ch in sample)
    return letters >= 0.4 * len(sample) and spaces >= 0.03 * len(sample)


def _looks_like_text(text: str) -> bool:
    sample = text[:200_000]
    if not sample:
        return True
    odd = sum(
        1
        for ch in sample
        if ch == "\ufffd"
        or (unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs") and ch not in "\t\n\r\f")
    )
    return odd <= 0.05 * len(sample)


def _read_txt(data: bytes, source: str, settings):
    text, reason = decode_text(data)
    if text is None:
        return Skipped(source, reason)
    return split_lines(text), None, {}


def _read_md(data: bytes, source: str, settings):
    text, reason = decode_text(data)
    if text is None:
        return Skipped(source, reason)
    lines = split_lines(text)
    return lines, None, markdown_headings(text, lines)


def markdown_headings(text: str, lines: list[str]) -> dict[int, int]:
    """line -> level for ATX and setext headings, as CommonMark sees them."""
    try:
        from markdown_it import MarkdownIt

        tokens = MarkdownIt("commonmark").parse(text)
        levels = {tok.map[0] + 1: int(tok.tag[1])
                  for tok in tokens if tok.type == "heading_open" and tok.map}
        for opening, inline in zip(tokens, tokens[1:], strict=False):
            if (opening.type == "paragraph_open" and opening.map
                    and opening.map[1] - opening.map[0] == 1 and _all_strong(inline)):
                levels.setdefault(opening.map[0] + 1, GENERIC_LEVEL)
        return levels
    except Exception:  # pathological input: fall back to ATX lines
        return {
            n: len(m.group(1))
            for n, line in enumerate(lines, 1)
            if (m := re.match(r"^ {0,3}(#{1,6})\s", line))
        }


def _all_strong(inline) -> bool:
    """A Markdown paragraph that is one bold span ("**Artikel 3 Normbedrag**")."""
    kids = [k for k in (inline.children or []) if not (k.type == "text" and not k.content.strip())]
    return (len(kids) >= 3 and kids[0].type == "strong_open" and kids[-1].type == "strong_close"
            and all(k.type != "strong_open" for k in kids[1:-1])
            and emphasised_title(inline.content.replace("*", "").replace("_", "")))


# --- PDF ----------------------------------------------------------------------------


def _read_pdf(data: bytes, source: str, settings):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError:  # AES needs the optional "cryptography" package
                return Skipped(
                    source, "versleutelde PDF (AES): het pakket 'cryptography' ontbreekt"
                )
            except Exception:
                opened = 0
            if not opened:
                return Skipped(source, "beschadigde of versleutelde PDF: wachtwoord nodig")
        count = len(reader.pages)
    except Exception:
        return Skipped(source, "beschadigde of versleutelde PDF: kan niet worden geopend")
    if count == 0:
        return Skipped(source, "beschadigde of versleutelde PDF: geen pagina's gevonden")
    if count > settings.max_pdf_pages:
        return Skipped(
            source, f"PDF heeft {count} pagina's, meer dan het maximum van {settings.max_pdf_pages}"
        )
    lines: list[str] = []
    pages: list[int] = []
    failed = 0
    for number in range(1, count + 1):
        try:
            text = reader.pages[number - 1].extract_text() or ""
        except Exception:
            failed += 1
            log.warning("%s: pagina %d niet leesbaar", source, number)
            continue
        for line in split_lines(text):
            lines.append(line)
            pages.append(number)
    if failed == count:
        return Skipped(source, "beschadigde of versleutelde PDF: geen enkele pagina leesbaar")
    return lines, pages, {}


# --- DOCX ---------------------------------------------------------------------------

_HEADING_STYLE = re.compile(r"^(?:heading|kop)\s*([1-9])$", re.IGNORECASE)


def _heading_level(paragraph) -> int | None:
    style = paragraph.style
    for _ in range(5):  # a custom style may inherit from "Heading 2"
        if style is None:
            break
        name = (style.name or "").strip()
        m = _HEADING_STYLE.match(name)
        if m:
            return int(m.group(1))
        if name.lower() in ("title", "titel"):
            return 1
        style = style.base_style
    return GENERIC_LEVEL if _bold_paragraph(paragraph) else None


def _bold_paragraph(paragraph) -> bool:
    """Every run with text is bold, directly or through the paragraph's style."""
    runs = [r for r in paragraph.runs if r.text.strip()]
    style_bold = bool(paragraph.style is not None and paragraph.style.font.bold)
    return (bool(runs) and all(r.bold or (r.bold is None and style_bold) for r in runs)
            and emphasised_title(paragraph.text))


def _read_docx(data: bytes, source: str, settings):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(max(info.file_size, 0) for info in zf.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return Skipped(source, "beschadigd DOCX-bestand: geen geldig zip-archief")
    limit = settings.max_docx_uncompressed_mb * _MB
    if total > limit:
        return Skipped(
            source,
            f"DOCX pakt uit tot {_mb(total / _MB)} MB, meer dan "
            f"{_mb(settings.max_docx_uncompressed_mb)} MB (mogelijke zip-bom)",
        )
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:
        return Skipped(source, "beschadigd DOCX-bestand: kan niet worden geopend")
    lines: list[str] = []
    headings: dict[int, int] = {}
    for kind, item in _docx_blocks(document):
        if kind == "p":
            level = _heading_level(item)
            for part in split_lines(item.text) or [""]:
                lines.append(part)
                if level and part.strip():
                    headings[len(lines)] = level
        else:  # a table: one line per row, cells separated by " | "
            for row in item.rows:
                cells: list[str] = []
                last = None
                for cell in row.cells:
                    # a merged cell comes once per grid column it spans, as the same XML
                    # element; equal values in two cells ("€ 35.000 | € 35.000") both stay
                    if cell._tc is last:
                        continue
                    last = cell._tc
                    if text := " ".join(cell.text.split()):
                        cells.append(text)
                lines.append(" | ".join(cells))
    return lines, None, headings


def _docx_blocks(document):
    """Body paragraphs and tables in order, including those inside content controls
    (w:sdt, common in government templates), which python-docx's iterators skip."""
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    parent = document._body  # python-docx's own parent object for body-level blocks
    stack = list(reversed(document.element.body))
    while stack:
        el = stack.pop()
        if el.tag == qn("w:p"):
            yield "p", Paragraph(el, parent)
        elif el.tag == qn("w:tbl"):
            yield "t", Table(el, parent)
        elif el.tag == qn("w:sdt"):
            content = el.find(qn("w:sdtContent"))
            if content is not None:
                stack.extend(reversed(content))


# --- HTML ---------------------------------------------------------------------------

# fmt: off
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
})
_OPTIONAL_END = frozenset({  # implicitly closed: never deeper nesting
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "thead", "tbody", "tfoot", "colgroup",
    "rt", "rp",
})
_DROP = [
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed",
    "canvas", "nav", "aside", "footer", "form", "button", "select", "dialog", "head",
]
_CHROME = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|breadcrumbs?|cookies?|skiplinks?|sidebar|"
    r"footer|header|share|social)(?:$|[\s_-])",
    re.IGNORECASE,
)
_DROP_ROLES = ("navigation", "banner", "contentinfo", "search", "complementary")
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset({
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "tr",
    "table", "thead", "tbody", "tfoot", "caption", "figcaption", "figure", "blockquote",
    "pre", "address", "hr", "body", "fieldset", "details", "summary", "center", "header",
})
_CELLS = ("td", "th")
_IN_CELL = _BLOCKS - {"table", "tr"}  # blocks that only separate words inside a cell
# fmt: on


class _TooDeep(Exception):
    pass


class _DepthScanner(HTMLParser):
    """Streaming depth check before any tree is built: a 100 000-deep document must be
    refused, not fed to a parser or a recursive walk."""

    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=False)
        self.limit = limit
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in _VOID or tag in _OPTIONAL_END:
            return
        self.depth += 1
        if self.depth > self.limit:
            raise _TooDeep

    def handle_endtag(self, tag):
        if tag not in _VOID and tag not in _OPTIONAL_END and self.depth:
            self.depth -= 1


def _html_text(data: bytes) -> tuple[str | None, str]:
    m = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", data[:4096], re.I)
    if m:
        try:
            return data.decode(codecs.lookup(m.group(1).decode("ascii")).name, "replace"), ""
        except (LookupError, UnicodeError):
            pass
    return decode_text(data)


def _read_html(data: bytes, source: str, settings):
    text, reason = _html_text(data)
    if text is None:
        return Skipped(source, reason)
    scanner = _DepthScanner(settings.max_html_depth)
    try:
        scanner.feed(text)
        scanner.close()
    except _TooDeep:
        return Skipped(
            source, f"HTML is te diep genest (meer dan {settings.max_html_depth} niveaus)"
        )
    import lxml.html
    from lxml import etree

    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", " ", text)
    if not text.strip():
        return Skipped(source, "bestand bevat geen tekst")
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    root = lxml.html.document_fromstring(text, parser=parser)
    content = _content_root(root)
    drop = list(_DROP)
    doomed = []
    if content is None:  # no semantic main text: fall back to <body> minus site chrome
        content = root.find("body") if root.find("body") is not None else root
        drop.append("header")
        doomed = [
            el
            for el in content.iter()
            if isinstance(el.tag, str)
            and _CHROME.search(f"{el.get('id', '')} {el.get('class', '')}")
        ]
    doomed += list(content.iter(*drop))
    doomed += content.xpath(
        ".//*[" + " or ".join(f"@role='{r}'" for r in _DROP_ROLES) + " or @aria-hidden='true'"
        " or @hidden]"
    )
    for el in doomed:
        if el is not content and el.getparent() is not None:
            el.drop_tree()
    for el in content.iter("p", "div"):
        # a bold "Totaal" in a table cell or a bold list item is no section
        if next(el.iterancestors(*_CELLS, "li", "table"), None) is None and _bold_block(el):
            el.tag = f"h{GENERIC_LEVEL}"
    return _walk_html(content, etree)


def _bold_block(el) -> bool:
    """<p><strong>Artikel 3 Normbedrag</strong></p>: all of the block's text is bold."""
    text = " ".join(el.text_content().split())
    if not text or any(isinstance(c.tag, str) and c.tag.lower() in _BLOCKS
                       for c in el.iterdescendants()):
        return False
    outer = [b for b in el.iterdescendants("b", "strong")
             if next(b.iterancestors("b", "strong"), None) is None]
    return (" ".join(" ".join(b.text_content() for b in outer).split()) == text
            and emphasised_title(text))


def _content_root(root):
    """<main>, else role=main, else a single <article>; None means: use <body>.
    (Explicit None checks: an lxml element without children is falsy.)"""
    for found in (list(root.iter("main")), root.xpath("//*[@role='main']")):
        if found:
            return found[0]
    articles = root.findall(".//article")
    return articles[0] if len(articles) == 1 else None


def _walk_html(content, etree) -> tuple[list[str], None, dict[int, int]]:
    lines: list[str] = []
    headings: dict[int, int] = {}
    buf: list[str] = []

    def flush(level: int | None = None) -> None:
        text = "".join(buf)
        buf.clear()
        for part in text.split("\n"):
            part = " ".join(part.split()).strip(" |")
            if part:
                lines.append(part)
                if level:
                    headings[len(lines)] = level

    pre = 0  # inside <pre> source newlines are line breaks; elsewhere just spaces
    cell = 0  # inside a cell, a <p> or <div> (Word's HTML export) does not end the row

    def add(text: str | None) -> None:
        if text:
            buf.append(text if pre else text.replace("\n", " ").replace("\r", " "))

    for event, el in etree.iterwalk(content, events=("start", "end")):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if event == "start":
            if cell and tag in _IN_CELL:
                buf.append(" ")
            elif tag in _BLOCKS or tag in _HEADINGS:
                flush()
            elif tag == "br":
                buf.append("\n")
            if tag == "pre":
                pre += 1
            elif tag in _CELLS:
                cell += 1
            if tag:
                add(el.text)
        else:
            if tag == "pre":
                pre -= 1
            if tag in _CELLS:
                cell = max(cell - 1, 0)
                buf.append(" | ")
            elif cell and tag in _IN_CELL:
                buf.append(" ")
            elif tag in _HEADINGS:
                flush(_HEADINGS[tag])
            elif tag in _BLOCKS:
                flush()
            if el is not content:
                add(el.tail)
    flush()
    return lines, None, headings


_READERS = {
    "txt": _read_txt,
    "md": _read_md,
    "pdf": _read_pdf,
    "docx": _read_docx,
    "html": _read_html,
}
