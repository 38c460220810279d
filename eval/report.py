"""Rendering a run for people: a Markdown file beside the run and rich tables in the
terminal. Both list every wrong question with what was answered and where the gold
answer really is, because that list, not the averages, is what one fixes from."""

from __future__ import annotations

from eval.compare import LABELS, fmt

TYPE_COLUMNS = (  # (metric key, Dutch column heading)
    ("answer_accuracy", "Antwoord"),
    ("citation_accuracy", "Bron"),
    ("abstention", "Terecht n.g."),
    ("false_abstention", "Onterecht n.g."),
    ("recall@5", "Recall@5"),
    ("mrr", "MRR"),
    ("grounding", "Gegrond"),
    ("latency_p50_ms", "p50 ms"),
)
MODE_LABELS = {"hybrid": "hybride", "dense": "alleen dense", "bm25": "alleen BM25"}


def wrong_questions(run: dict) -> list[dict]:
    """Answerables with a wrong answer or citation; unanswerables that got an answer."""
    return [q for q in run["questions"] if not q["correct"] or q.get("cited_ok") is False]


def what_went_wrong(q: dict) -> str:
    if not q["answerable"]:
        return "beantwoord, maar onbeantwoordbaar"
    if not q["found"]:
        return "niet gevonden"
    parts = []
    if not q["correct"]:
        parts.append("antwoord fout")
    if q.get("cited_ok") is False:
        parts.append("bron fout")
    return ", ".join(parts)


def first_citation(q: dict) -> str:
    if not q["citations"]:
        return "–"
    c = q["citations"][0]
    return f"{c['source']}:{c['line_start']}–{c['line_end']}"


def gold_location(q: dict) -> str:
    g = q["gold"]
    if not g.get("source"):
        return "– (onbeantwoordbaar)"
    lines = ",".join(str(n) for n in g.get("evidence_lines", [])) or "?"
    return f"{g['source']}:{lines} “{g.get('evidence')}”"


def type_rows(run: dict) -> list[list[str]]:
    per_type = run["metrics"]["per_type"]
    rows = [[t, str(m["n"]), *(fmt(m.get(k), k) for k, _ in TYPE_COLUMNS)]
            for t, m in per_type.items()]
    m = run["metrics"]["overall"]
    rows.append(["totaal", str(m["n"]), *(fmt(m.get(k), k) for k, _ in TYPE_COLUMNS)])
    return rows


def mode_rows(run: dict) -> list[list[str]]:
    retrieval = run["metrics"]["overall"].get("retrieval", {})
    return [[MODE_LABELS.get(mode, mode), *(fmt(m.get(k)) for k in
             ("recall@1", "recall@5", "recall@10", "mrr"))] for mode, m in retrieval.items()]


# --- Markdown ----------------------------------------------------------------------------
def _cell(text) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def to_markdown(run: dict) -> str:
    cfg, m = run.get("config", {}), run["metrics"]["overall"]
    emb = cfg.get("embedder") or {}
    lines = [
        "# Evaluatie Vraagbaak", "",
        f"- Tijdstip: {cfg.get('timestamp', '?')}",
        f"- Commit: {cfg.get('git_commit') or '–'}",
        f"- Embedder: {emb.get('name', '?')} ({emb.get('fingerprint', '?')})",
        f"- Gold set: {cfg.get('gold', {}).get('path', '?')} "
        f"(sha256 {str(cfg.get('gold', {}).get('sha256', '?'))[:12]}…)",
        f"- Vragen: {m['n']} ({m['n_answerable']} beantwoordbaar, "
        f"{m['n_unanswerable']} onbeantwoordbaar)", "",
        "## Totaal", "",
        *_table(["metriek", "waarde"], [[label, fmt(m.get(k), k)] for k, label in LABELS.items()]),
        "", "## Per vraagtype", "",
        *_table(["type", "n", *(h for _, h in TYPE_COLUMNS)], type_rows(run)),
        "", "## Zoeken per methode (top 10)", "",
        *_table(["methode", "recall@1", "recall@5", "recall@10", "MRR"], mode_rows(run)),
    ]
    wrong = wrong_questions(run)
    lines += ["", f"## Foute antwoorden ({len(wrong)})", ""]
    for q in wrong:
        lines += [
            f"### {q['id']} ({q['type']}): {what_went_wrong(q)}", "",
            f"- **Vraag:** {_cell(q['question'])}",
            f"- **Antwoord:** {_cell(q['answer'])}",
            f"- **Bron:** {first_citation(q)}",
            f"- **Goud:** {_cell(q['gold']['answer'])}",
            f"- **Goudbron:** {_cell(gold_location(q))}", "",
        ]
    return "\n".join(lines).rstrip() + "\n"


# --- terminal ----------------------------------------------------------------------------
def print_run(console, run: dict) -> None:
    from rich.table import Table

    m = run["metrics"]["overall"]
    total = Table(title="Evaluatie Vraagbaak: totaal")
    total.add_column("metriek")
    total.add_column("waarde", justify="right")
    for key, label in LABELS.items():
        total.add_row(label, fmt(m.get(key), key))
    console.print(total)

    per_type = Table(title="Per vraagtype")
    for head in ("type", "n", *(h for _, h in TYPE_COLUMNS)):
        per_type.add_column(head, justify="left" if head == "type" else "right")
    for row in type_rows(run):
        per_type.add_row(*row)
    console.print(per_type)

    modes = Table(title="Zoeken per methode (top 10)")
    for head in ("methode", "recall@1", "recall@5", "recall@10", "MRR"):
        modes.add_column(head, justify="left" if head == "methode" else "right")
    for row in mode_rows(run):
        modes.add_row(*row)
    console.print(modes)

    wrong = wrong_questions(run)
    table = Table(title=f"Foute antwoorden ({len(wrong)})", show_lines=True)
    for head in ("id", "type", "wat", "vraag", "antwoord", "bron", "goud", "goudbron"):
        table.add_column(head, overflow="fold")
    for q in wrong:
        table.add_row(q["id"], q["type"], what_went_wrong(q), q["question"], q["answer"],
                      first_citation(q), q["gold"]["answer"], gold_location(q))
    console.print(table)


def print_comparison(console, ok: bool, text: str) -> None:
    from rich.text import Text

    console.print(Text(text, style=None if ok else "bold red"))
