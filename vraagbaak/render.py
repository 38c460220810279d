"""Readable terminal rendering of an Answer."""

from __future__ import annotations

from rich.markup import escape
from rich.panel import Panel

from qa import Answer


def location(c) -> str:
    lines = f"regel {c.line_start}" if c.line_start == c.line_end else (
        f"regels {c.line_start}–{c.line_end}")
    return lines + (f", pagina {c.page}" if c.page else "")


def print_answer(console, answer: Answer) -> None:
    style = "green" if answer.found else "yellow"
    console.print(Panel(escape(answer.text), title=escape(answer.question), border_style=style))
    if answer.found:
        console.print("[bold]Bronnen[/]")
        for c in answer.citations:
            console.print(f"[{c.n}] [bold]{escape(c.source)}[/] — {escape(c.section)} — "
                          f"{location(c)}")
            console.print(f"    “{escape(c.quote)}”")
    else:
        console.print("[bold]Misschien relevant[/]")
        for hit in answer.passages[:3]:
            ch = hit.chunk
            console.print(f"- [bold]{escape(ch.source)}[/] — {escape(ch.section_path)} — "
                          f"regels {ch.line_start}–{ch.line_end}")
            console.print(f"    {escape(ch.text[:200])}…")
    console.print(f"[dim]{answer.latency_ms:.0f} ms[/]")
