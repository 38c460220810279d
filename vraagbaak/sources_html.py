"""HTML and Markdown for answers and their sources in the web UI.

Why a module of pure functions: the text shown comes from documents and from users, so
it is untrusted. Every piece is escaped *before* it is wrapped in our own markup (the
quote gets its ``<mark>`` only after ``html.escape``), which makes it impossible for a
document to inject HTML or script, and pure functions let tests prove exactly that.
"""

from __future__ import annotations

import html
import re

from qa import NOT_FOUND

PASSAGE_PREVIEW_CHARS = 600
# Markdown syntax that can occur mid-line; & < > are left to html.escape so entities stay
# intact. Line breaks are collapsed first, so block syntax can only start the text.
_MD_INLINE = re.compile(r"([\\`*_{}\[\]|~$])")
_MD_BLOCK_START = re.compile(r"^(\d+)([.)])|^([-+#>=])")


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def md_text(text: str) -> str:
    """Plain text that a Markdown renderer shows verbatim and can never turn into HTML."""
    flat = _MD_INLINE.sub(r"\\\1", " ".join(str(text).split()))
    flat = _MD_BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", flat)
    return html.escape(flat, quote=False)


def location(line_start: int, line_end: int, page: int | None = None) -> str:
    lines = f"regel {line_start}" if line_start == line_end else (
        f"regels {line_start}–{line_end}")
    return lines + (f", pagina {page}" if page else "")


def highlight(text: str, start: int, end: int) -> str:
    """``text`` escaped, with exactly ``text[start:end]`` wrapped in <mark>."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    return (esc(text[:start]) + "<mark>" + esc(text[start:end]) + "</mark>"
            + esc(text[end:]))


def _card(n: str, source: str, section: str, where: str, body: str,
          title: str | None) -> str:
    title_html = (f'<div class="vb-title">{esc(title)}</div>'
                  if title and title != source else "")
    section_html = f"{esc(section)} · " if section else ""
    return (
        '<div class="vb-source">'
        f'<div class="vb-head"><span class="vb-n">{esc(n)}</span> '
        f'<span class="vb-doc">{esc(source)}</span></div>{title_html}'
        f'<div class="vb-meta">{section_html}{esc(where)}</div>'
        f'<div class="vb-text">{body}</div></div>'
    )


def render_sources(answer, titles: dict[str, str] | None = None) -> str:
    """The sources panel: cited chunks with the quote marked, or the closest passages."""
    titles = titles or {}
    if answer is None:
        return '<div class="vb-empty">Hier verschijnen de bronnen van het antwoord.</div>'
    if answer.found:
        cards = [
            _card(f"[{c.n}]", c.source, c.section, location(c.line_start, c.line_end, c.page),
                  highlight(c.chunk_text, c.quote_start, c.quote_end), titles.get(c.source))
            for c in answer.citations
        ]
        return '<div class="vb-sources"><h3>Bronnen</h3>' + "".join(cards) + "</div>"
    parts = [f'<div class="vb-notfound">{esc(NOT_FOUND)}</div>']
    passages = list(answer.passages)[:3]
    if passages:
        parts.append("<h3>Misschien relevant</h3>")
        for i, hit in enumerate(passages, 1):
            c = hit.chunk
            text = c.text if len(c.text) <= PASSAGE_PREVIEW_CHARS else (
                c.text[:PASSAGE_PREVIEW_CHARS].rsplit(" ", 1)[0] + " …")
            parts.append(_card(f"{i}.", c.source, c.section_path,
                               location(c.line_start, c.line_end, c.page), esc(text),
                               titles.get(c.source)))
    return '<div class="vb-sources">' + "".join(parts) + "</div>"


def render_answer_markdown(answer) -> str:
    """The chat message: the answer with its [n] markers, then a one-line source list;
    above it the question as searched when typos were repaired, so a wrong repair shows."""
    searched = (f"*Gezocht als:* {md_text(answer.searched_as)}\n\n"
                if answer.searched_as else "")
    if not answer.found:
        hint = "\n\n*Zie rechts onder ‘Misschien relevant’.*" if answer.passages else ""
        return searched + md_text(NOT_FOUND) + hint
    lines = [searched + md_text(answer.text), ""]
    for c in answer.citations:
        lines.append(f"{md_text(f'[{c.n}]')} {md_text(c.source)}, "
                     f"{md_text(location(c.line_start, c.line_end, c.page))}  ")
    return "\n".join(lines).rstrip()


def render_documents(documents) -> str:
    """The document list of the Documenten tab, as an escaped HTML table."""
    if not documents:
        return '<div class="vb-empty">De index bevat nog geen documenten.</div>'
    rows = "".join(
        f"<tr><td class='vb-doc'>{esc(d.source)}</td><td>{esc(d.title)}</td>"
        f"<td>{esc(d.kind)}</td><td class='vb-num'>{int(d.chunks)}</td>"
        f"<td>{esc(d.ingested_at.replace('T', ' ').rstrip('Z'))}</td></tr>"
        for d in documents)
    return ("<table class='vb-docs'><thead><tr><th>Document</th><th>Titel</th><th>Soort</th>"
            "<th class='vb-num'>Fragmenten</th><th>Ingelezen (UTC)</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")
