"""The ``vraagbaak`` command: ingest, search, ask, serve, eval.

Help and messages are Dutch (the users are Dutch municipal staff); JSON outputs of the
batch modes are public interfaces and documented in the README.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402
from rich.table import Table  # noqa: E402

from vraagbaak.settings import Settings  # noqa: E402

app = typer.Typer(
    help="Vraagbaak: stel vragen aan Nederlandse beleidsdocumenten en krijg antwoorden "
    "met exacte bronvermelding.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

IndexOpt = typer.Option(None, "--index", "-i", help="Map van de index (standaard: data/index).")


def _settings(index: Path | None) -> Settings:
    overrides = {"index_dir": index} if index is not None else {}
    return Settings(**overrides)


def _fail(message: str, code: int = 2) -> None:
    # escape: paths and file names are not Rich markup ("[/b]" would crash, "[concept]"
    # would vanish); soft_wrap: the rebuild command in the message stays copyable
    err.print(f"[bold red]Fout:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def _load_index(settings: Settings):
    from index import Index, IndexProblem

    try:
        return Index.load(settings.index_dir, settings)
    except IndexProblem as exc:
        _fail(str(exc))


def _read_batch(path: Path):
    """Yield (id, question) from a JSONL file; bad lines are reported, not fatal."""
    if not path.is_file():
        _fail(f"Het bestand {path} bestaat niet.")
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                yield record.get("id", n), record["question"]
            except (ValueError, KeyError, AttributeError):
                err.print(f"[yellow]Regel {n} van {escape(str(path))} overgeslagen: "
                          'verwacht {"id": ..., "question": "..."}[/]')


def _emit(record: dict) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@app.command()
def ingest(
    corpus: Path = typer.Argument(..., help="Map (of bestand) met documenten: PDF, DOCX, "
                                  "HTML, Markdown, TXT."),
    index: Path | None = IndexOpt,
    rebuild: bool = typer.Option(False, "--rebuild", help="Alles opnieuw inlezen en embedden."),
) -> None:
    """Lees documenten in en werk de index bij (alleen nieuwe of gewijzigde documenten)."""
    from index import IndexProblem, build_index
    from vraagbaak.progress import RichBuildProgress

    settings = _settings(index)
    with RichBuildProgress(err) as progress:
        try:
            report = build_index(corpus, settings.index_dir, settings, progress=progress,
                                 rebuild=rebuild)
        except IndexProblem as exc:
            progress.stop()
            _fail(str(exc), code=1)
    for skipped in report.skipped:
        err.print(f"[yellow]Overgeslagen:[/] {escape(skipped.source)}: "
                  f"{escape(skipped.reason)}", soft_wrap=True)
    table = Table(title=f"Index bijgewerkt: {escape(str(settings.index_dir))}")
    table.add_column("")
    table.add_column("aantal", justify="right")
    for label, value in (
        ("documenten in de index", report.documents),
        ("fragmenten (chunks)", report.chunks),
        ("nieuw", len(report.added)),
        ("gewijzigd", len(report.changed)),
        ("ongewijzigd (hergebruikt)", len(report.unchanged)),
        ("verwijderd", len(report.removed)),
        ("overgeslagen", len(report.skipped)),
        ("fragmenten ge-embed", report.embedded_chunks),
        ("tijd (s)", f"{report.seconds:.1f}"),
    ):
        table.add_row(label, str(value))
    err.print(table)


@app.command()
def search(
    question: str | None = typer.Argument(None, help="De zoekvraag."),
    index: Path | None = IndexOpt,
    k: int = typer.Option(10, "--k", help="Aantal resultaten."),
    batch: Path | None = typer.Option(None, "--batch", help="JSONL met {id, question} per "
                                      "regel; schrijft JSON per regel."),
) -> None:
    """Zoek fragmenten (hybride: embeddings + BM25) zonder antwoord te formuleren."""
    settings = _settings(index)
    if question is None and batch is None:
        _fail("Geef een vraag of --batch BESTAND.")
    idx = _load_index(settings)

    def hits_json(q: str) -> list[dict]:
        return [
            {"source": h.chunk.source, "section": h.chunk.section_path,
             "line_start": h.chunk.line_start, "line_end": h.chunk.line_end,
             "page": h.chunk.page, "score": round(h.score, 6), "text": h.chunk.text}
            for h in idx.search(idx.corrected(q), k)
        ]

    if batch is not None:
        for qid, q in _read_batch(batch):
            _emit({"id": qid, "hits": hits_json(q) if str(q).strip() else []})
        return
    table = Table(title=f"Resultaten voor: {escape(question)}", show_lines=True)
    for col in ("#", "document", "sectie", "regels", "score", "fragment"):
        table.add_column(col)
    for n, h in enumerate(idx.search(idx.corrected(question), k), 1):
        c = h.chunk
        lines = f"{c.line_start}–{c.line_end}" + (f" (p. {c.page})" if c.page else "")
        snippet = c.text[:200] + ("…" if len(c.text) > 200 else "")
        table.add_row(str(n), escape(c.source), escape(c.section_path), lines,
                      f"{h.score:.4f}", escape(snippet))
    out.print(table)


@app.command()
def ask(
    question: str | None = typer.Argument(None, help="De vraag, bijv. 'wanneer loopt de "
                                          "Sportaal-opdracht af?'"),
    index: Path | None = IndexOpt,
    batch: Path | None = typer.Option(None, "--batch", help="JSONL met {id, question} per "
                                      "regel; schrijft JSON per regel."),
) -> None:
    """Stel een vraag; het antwoord citeert de exacte regels uit de documenten."""
    from qa import QA, QuestionError, RankerProblem

    settings = _settings(index)
    if question is None and batch is None:
        _fail("Geef een vraag of --batch BESTAND.")
    if question is not None:
        from qa import validate_question

        try:
            validate_question(question, settings)
        except QuestionError as exc:
            _fail(str(exc))
    try:
        qa = QA(_load_index(settings), settings)
    except RankerProblem as exc:
        _fail(str(exc))
    if batch is not None:
        for qid, q in _read_batch(batch):
            try:
                _emit({"id": qid, **qa.answer(q).to_json()})
            except QuestionError as exc:
                _emit({"id": qid, "question": q, "found": False, "answer": str(exc),
                       "citations": [], "latency_ms": 0.0, "error": str(exc)})
        return
    from vraagbaak.render import print_answer

    print_answer(out, qa.answer(question))


@app.command()
def serve(
    index: Path | None = IndexOpt,
    host: str | None = typer.Option(None, "--host", help="Adres (standaard 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Poort (standaard 7860)."),
) -> None:
    """Start de webinterface (Gradio) en de REST-API (/api/ask, /api/health, /docs)."""
    import uvicorn

    from index import IndexProblem
    from index.store import read_manifest
    from qa import RankerProblem

    settings = _settings(index)
    if host:
        settings.host = host
    if port:
        settings.port = port
    try:
        read_manifest(settings.index_dir)  # refuse a missing or damaged index in a second
        from vraagbaak.server import create_app

        application = create_app(settings)
    except (IndexProblem, RankerProblem) as exc:
        _fail(str(exc))
    err.print(f"Vraagbaak draait op [bold]http://{settings.host}:{settings.port}/[/] "
              "(Ctrl-C om te stoppen)")
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning")


@app.command("eval")
def eval_cmd(
    gold: Path = typer.Option(Path("eval/gold.jsonl"), "--gold", help="Gold set (JSONL)."),
    index: Path | None = IndexOpt,
    out: Path | None = typer.Option(None, "--out",
                                    help="Run-bestand (standaard runs/eval-<tijd>.json)."),
    against: Path | None = typer.Option(None, "--against",
                                        help="Vergelijk met een eerdere run; exitcode 1 bij "
                                        "achteruitgang."),
    compare: tuple[Path, Path] | None = typer.Option(
        None, "--compare", metavar="NIEUW OUD",
        help="Vergelijk twee run-bestanden zonder opnieuw te draaien."),
) -> None:
    """Evalueer antwoorden, bronnen, terecht 'niet gevonden' en retrieval op de gold set."""
    from eval.run import main as run_eval

    raise typer.Exit(run_eval(gold=gold, index=index, out=out, against=against,
                              compare=compare, settings=_settings(index)))


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
