"""The regression gate: does a new run lose anything an older run had?

Two rules, both from the eval spec: a gated metric may not drop by more than the
tolerance (noise from e.g. a re-embedded corpus), and no single question may flip from
right to wrong, because a user who got a right answer yesterday notices a wrong one
today even when the average went up. Works on run dicts only, so it is instant.
"""

from __future__ import annotations

GATED = ("answer_accuracy", "citation_accuracy", "abstention", "recall@5")
LABELS = {
    "answer_accuracy": "antwoord juist",
    "citation_accuracy": "bron juist",
    "answer_and_citation": "antwoord én bron juist",
    "abstention": "terecht niet gevonden (onbeantwoordbaar)",
    "false_abstention": "ten onrechte niet gevonden",
    "recall@1": "recall@1 (hybride)",
    "recall@5": "recall@5 (hybride)",
    "recall@10": "recall@10 (hybride)",
    "mrr": "MRR (hybride)",
    "grounding": "gegrondheid",
    "latency_p50_ms": "latentie p50 (ms)",
    "latency_p95_ms": "latentie p95 (ms)",
}
_EPS = 1e-9


def _flips(new: dict, old: dict, key: str) -> tuple[list[dict], list[dict]]:
    """(right→wrong, wrong→right) questions for one per-question flag."""
    old_by_id = {q["id"]: q for q in old["questions"]}
    worse, better = [], []
    for q in new["questions"]:
        before = old_by_id.get(q["id"])
        if before is None or before.get(key) is None or q.get(key) is None:
            continue
        if before[key] and not q[key]:
            worse.append(q)
        elif q[key] and not before[key]:
            better.append(q)
    return worse, better


def fmt(value, key: str = "") -> str:
    if value is None:
        return "–"
    if key.endswith("_ms"):
        return f"{value:.0f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _describe(run: dict) -> str:
    cfg = run.get("config", {})
    commit = (cfg.get("git_commit") or "")[:10] or "geen commit"
    return f"{cfg.get('timestamp', '?')}, {commit}"


def compare_runs(new: dict, old: dict, tolerance: float = 0.02) -> tuple[bool, str]:
    """(ok, Dutch report). ok is False when a gated metric drops more than ``tolerance``
    or any question flips from right to wrong (answer or citation)."""
    lines = [f"Vergelijking nieuw ({_describe(new)}) met oud ({_describe(old)}), "
             f"tolerantie {tolerance:.3f}"]
    reasons = []
    new_cfg, old_cfg = new.get("config", {}), old.get("config", {})
    if new_cfg.get("gold", {}).get("sha256") != old_cfg.get("gold", {}).get("sha256"):
        lines.append("Let op: de runs gebruiken een verschillende gold set.")
    changed = {k for k in set(new_cfg.get("settings", {})) | set(old_cfg.get("settings", {}))
               if new_cfg.get("settings", {}).get(k) != old_cfg.get("settings", {}).get(k)}
    if new_cfg.get("embedder") != old_cfg.get("embedder"):
        changed.add("embedder")
    if changed:
        lines.append("Gewijzigde instellingen: " + ", ".join(sorted(changed)))

    lines += ["", f"{'metriek':<44}{'oud':>8}{'nieuw':>8}{'verschil':>10}"]
    new_m, old_m = new["metrics"]["overall"], old["metrics"]["overall"]
    for key, label in LABELS.items():
        a, b = old_m.get(key), new_m.get(key)
        delta = (b - a) if isinstance(a, int | float) and isinstance(b, int | float) else None
        mark = ""
        if key in GATED and delta is not None and -delta > tolerance + _EPS:
            mark = "  <-- gedaald"
            reasons.append(f"{label} daalde met {-delta:.3f} (meer dan {tolerance:.3f})")
        shown = "" if delta is None else (f"{delta:+.0f}" if key.endswith("_ms")
                                           else f"{delta:+.3f}")
        lines.append(f"{label:<44}{fmt(a, key):>8}{fmt(b, key):>8}{shown:>10}{mark}")

    for key, label in (("correct", "Antwoord"), ("cited_ok", "Bron")):
        worse, better = _flips(new, old, key)
        for title, group in ((f"{label} goed → fout", worse), (f"{label} fout → goed", better)):
            if group:
                lines += ["", f"{title} ({len(group)}):"]
                lines += [f"  {q['id']} [{q['type']}] {q['question']}" for q in group]
        if worse:
            reasons.append(f"{len(worse)} vraag/vragen van goed naar fout ({label.lower()}): "
                           + ", ".join(q["id"] for q in worse))
    missing = sorted({q["id"] for q in old["questions"]} - {q["id"] for q in new["questions"]})
    if missing:
        lines += ["", f"Let op: {len(missing)} vragen ontbreken in de nieuwe run: "
                  + ", ".join(missing)]

    ok = not reasons
    lines.append("")
    if ok:
        lines.append("Resultaat: GESLAAGD, geen achteruitgang.")
    else:
        lines.append("Resultaat: NIET GESLAAGD, omdat:")
        lines += [f"  - {r}" for r in reasons]
    return ok, "\n".join(lines)
