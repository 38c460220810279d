"""The eval gate: the demo index must score at least the committed floors, the gate must
be able to fail, and the scoring rules behave as documented in eval/metrics.py."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from eval.compare import GATED, compare_runs
from eval.gold import DEFAULT_CORPUS, DEFAULT_GOLD, sha256_of
from eval.metrics import (
    aggregate,
    aggregate_by_type,
    answer_correct,
    citation_ok,
    contains_answer,
    first_rank,
    grounding,
    percentile,
    span_holds,
)

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ROOT / "eval" / "floors.json"
NOT_FOUND = "Niet gevonden in de documenten."


# --- unit tests of the scoring rules ------------------------------------------------------
@pytest.mark.parametrize(("answer", "needles", "expected"), [
    ("De opdracht loopt tot 7 mei.", ["7"], True),
    ("Er zijn 17 sporthallen.", ["7"], False),
    ("Dat gebeurt in 2027.", ["7"], False),
    ("Het tarief is 7,5 procent.", ["7"], False),
    ("Het gaat om 1.700 woningen.", ["7"], False),
    ("Het gaat om 1.700 woningen.", ["700"], False),
    ("In 2017 en daarna.", ["2017"], True),
    ("Looptijd 2022-2026.", ["2026"], True),
    ("Budget: €25mln voor de regio.", ["25"], True),
    ("Budget: €125 mln.", ["25 mln"], False),
    ("Er komt 1,2 miljoen bij.", ["2 miljoen"], False),
    ("Er komt 1.200.000 euro bij.", ["1200000"], True),
    ("Er komt 1200000 euro bij.", ["1.200.000"], True),
    ("Geld: 1.000.000,00 voor 2025-2028.", ["1.000.000"], True),
    ("Geld: € 500,- per jaar.", ["500"], True),
    ("Geld: 1.000.000,50 euro.", ["1.000.000"], False),
    ("Zie de tabel [1]", ["1"], False),
    ("Het bedrag is 25 mln [1]", ["25 mln"], True),
    ("Op 9\u00a0maart   2016 bekrachtigd.", ["9 maart 2016"], True),
    ("Minister BLOK tekent.", ["blok"], True),
    ("Minister Plasterk tekent.", ["blok"], False),
    ("Iets anders.", [], False),
])
def test_contains_answer(answer, needles, expected):
    assert contains_answer(answer, needles) is expected


def test_answer_correct_requires_found_and_length():
    assert answer_correct(True, "Eindatum: 2026 [1]", ["2026"])
    assert not answer_correct(False, "Eindatum: 2026 [1]", ["2026"])
    assert not answer_correct(True, "Eindatum: 2026 " + "x" * 400, ["2026"])
    assert answer_correct(True, "2026" + " " * 396, ["2026"])  # exactly 400 chars


def test_span_containment():
    src = "001.txt"
    assert span_holds(src, 1049, 1049, src, [1049])
    assert span_holds(src, 1040, 1050, src, [1049])
    assert span_holds(src, 1049, 1060, src, [1049])
    assert not span_holds(src, 1050, 1060, src, [1049])
    assert not span_holds(src, 1040, 1048, src, [1049])
    assert not span_holds("002.txt", 1040, 1050, src, [1049])
    assert not span_holds(src, 1, 9999, None, [])
    assert span_holds(src, 10, 12, src, [3, 11])  # evidence on several lines: any counts
    assert citation_ok([("002.txt", 1, 5), (src, 1049, 1049)], src, [1049])
    assert not citation_ok([], src, [1049])


def test_first_rank():
    spans = [("a", 1, 5), ("b", 1, 5), ("b", 6, 9), ("b", 8, 12)]
    assert first_rank(spans, "b", [8]) == 3
    assert first_rank(spans, "b", [20]) is None
    assert first_rank([], "b", [8]) is None


def test_grounding():
    quotes = {1: "Opdracht Sportaal 2022-2026 Eindatum: 2026", 2: "De gemeente betaalt."}
    assert grounding("Opdracht Sportaal Eindatum: 2026 [1]", quotes) == (1, 1)
    assert grounding("Opdracht Sportaal [1] De gemeente betaalt. [2]", quotes) == (2, 2)
    assert grounding("Opdracht Sportaal [2] De gemeente betaalt. [2]", quotes) == (1, 2)
    assert grounding("Opdracht Sportaal loopt af [1]", quotes) == (0, 1)  # "loopt", "af"
    assert grounding("Opdracht Sportaal [3]", quotes) == (0, 1)  # unknown citation
    assert grounding("Opdracht Sportaal [1] en verder", quotes) == (1, 2)  # uncited tail
    assert grounding("", quotes) == (0, 0)


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)


def _result(qid, qtype, correct, cited, found=True, ranks=None, latency=10.0):
    answerable = qtype != "unanswerable"
    return {"id": qid, "type": qtype, "answerable": answerable, "question": f"vraag {qid}",
            "found": found, "answer": "x [1]" if found else NOT_FOUND,
            "citations": [], "correct": correct, "cited_ok": cited if answerable else None,
            "ranks": ranks if ranks is not None else ({"hybrid": 1} if answerable else {}),
            "grounded": 1 if found else 0, "sentences": 1 if found else 0,
            "latency_ms": latency, "gold": {"answer": "", "source": None, "evidence": None,
                                            "evidence_lines": []}}


def test_aggregate_separates_answerable_and_unanswerable():
    results = [
        _result("a", "date", True, True, ranks={"hybrid": 1, "dense": 3, "bm25": None}),
        _result("b", "date", False, True, ranks={"hybrid": 4, "dense": None, "bm25": 2}),
        _result("c", "who", False, False, found=False,
                ranks={"hybrid": None, "dense": None, "bm25": None}),
        _result("d", "unanswerable", True, None, found=False),
        _result("e", "unanswerable", False, None, found=True),
    ]
    m = aggregate(results)
    assert (m["n"], m["n_answerable"], m["n_unanswerable"]) == (5, 3, 2)
    assert m["answer_accuracy"] == pytest.approx(1 / 3)
    assert m["citation_accuracy"] == pytest.approx(2 / 3)
    assert m["abstention"] == pytest.approx(1 / 2)
    assert m["false_abstention"] == pytest.approx(1 / 3)
    assert m["recall@1"] == pytest.approx(1 / 3)
    assert m["recall@5"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx((1 + 1 / 4) / 3)
    assert m["retrieval"]["bm25"]["recall@1"] == 0
    assert m["retrieval"]["dense"]["recall@5"] == pytest.approx(1 / 3)
    by_type = aggregate_by_type(results, ["date", "who", "unanswerable"])
    assert list(by_type["per_type"]) == ["date", "who", "unanswerable"]
    assert by_type["per_type"]["date"]["answer_accuracy"] == 0.5
    assert by_type["per_type"]["unanswerable"]["answer_accuracy"] is None
    assert by_type["per_type"]["who"]["abstention"] is None


def _toy_run(flags):
    results = [_result(f"q{i}", "date", c, c) for i, c in enumerate(flags)]
    return {"config": {}, "metrics": aggregate_by_type(results, ["date"]), "questions": results}


def test_compare_runs_tolerance_and_flips():
    old = _toy_run([True] * 50 + [False] * 50)
    ok, text = compare_runs(old, copy.deepcopy(old), 0.02)
    assert ok, text
    # one flip right->wrong plus one wrong->right: averages equal, but the gate fails
    new = _toy_run([False] + [True] * 49 + [True] + [False] * 49)
    ok, text = compare_runs(new, old, 0.02)
    assert not ok and "q0" in text and "goed → fout" in text
    # improvements only: passes and lists them
    better = _toy_run([True] * 51 + [False] * 49)
    ok, text = compare_runs(better, old, 0.02)
    assert ok and "fout → goed" in text and "q50" in text
    # a metric drop beyond tolerance fails even without per-question flips (new ids)
    dropped = _toy_run([True] * 45 + [False] * 55)
    for q in dropped["questions"]:
        q["id"] = "n" + q["id"]
    ok, text = compare_runs(dropped, old, 0.02)
    assert not ok and "daalde" in text
    ok, _ = compare_runs(dropped, old, 0.10)
    assert ok


class _FakeQA:
    """Answers from a dict, so evaluate() can be checked without a model."""

    def __init__(self, answers):
        self.answers = answers

    def answer(self, question):
        from types import SimpleNamespace as NS

        from qa.types import QuestionError

        if question not in self.answers:
            raise QuestionError("De vraag is leeg.")
        text, cites = self.answers[question]
        citations = [NS(n=n, source=s, line_start=a, line_end=b, quote=quote)
                     for n, (s, a, b, quote) in enumerate(cites, 1)]
        return NS(found=bool(cites), text=text if cites else NOT_FOUND,
                  citations=citations, latency_ms=12.5)


class _FakeIndex:
    manifest = {"embedder": {"name": "fake", "fingerprint": "f1"}, "chunking": {}}

    def corrected(self, question):
        return question

    def search(self, question, k, mode="hybrid"):
        from types import SimpleNamespace as NS

        spans = {"hybrid": [("d.txt", 1, 3), ("d.txt", 4, 6)], "dense": [("d.txt", 4, 6)],
                 "bm25": [("x.txt", 1, 9)]}[mode]
        return [NS(chunk=NS(source=s, line_start=a, line_end=b)) for s, a, b in spans][:k]


def test_evaluate_with_fake_system():
    from eval.gold import GoldItem
    from eval.run import evaluate

    gold = [
        GoldItem("g1", "wanneer?", "date", "In 2026.", ("2026",), "d.txt", "Eind: 2026",
                 None, (5,)),
        GoldItem("g2", "hoeveel?", "number", "17.", ("17",), "d.txt", "17 hallen", None, (2,)),
        GoldItem("g3", "wie?", "unanswerable", NOT_FOUND, (), None, None, None, ()),
        GoldItem("g4", "leeg", "who", "Blok.", ("blok",), "d.txt", "Blok", None, (9,)),
    ]
    qa = _FakeQA({
        "wanneer?": ("Eind: 2026 [1]", [("d.txt", 5, 5, "Eind: 2026")]),
        "hoeveel?": ("Er zijn 7 hallen [1]", [("d.txt", 2, 2, "Er zijn 7 hallen")]),
        "wie?": ("", []),
    })
    result = evaluate(qa, _FakeIndex(), gold)
    by_id = {q["id"]: q for q in result["questions"]}
    assert by_id["g1"]["correct"] and by_id["g1"]["cited_ok"]
    assert by_id["g1"]["ranks"] == {"hybrid": 2, "dense": 1, "bm25": None}
    assert not by_id["g2"]["correct"] and by_id["g2"]["cited_ok"]  # "7" is not "17"
    assert by_id["g3"]["correct"] and by_id["g3"]["cited_ok"] is None
    assert by_id["g4"]["error"] and not by_id["g4"]["found"]
    m = result["metrics"]["overall"]
    assert m["answer_accuracy"] == pytest.approx(1 / 3)
    assert m["citation_accuracy"] == pytest.approx(2 / 3)
    assert m["abstention"] == 1.0 and m["grounding"] == 1.0
    assert m["retrieval"]["dense"]["recall@1"] == pytest.approx(1 / 3)


# --- the gate on the demo index -----------------------------------------------------------
@pytest.fixture(scope="module")
def real_run(qa, demo_index, settings, tmp_path_factory):
    from eval.run import run_eval, save_run

    run = run_eval(qa, demo_index, settings, DEFAULT_GOLD, DEFAULT_CORPUS)
    path = tmp_path_factory.mktemp("eval") / "real.json"
    save_run(run, path)
    return path


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def damaged(run: dict, answers: bool = True, citations: bool = True) -> dict:
    """The run as if the system had lost its answers and/or its citations."""
    run = copy.deepcopy(run)
    for q in run["questions"]:
        if citations:
            q["citations"] = []
            q["cited_ok"] = None if not q["answerable"] else False
        if answers:
            q.update(found=False, answer=NOT_FOUND, grounded=0, sentences=0,
                     correct=not q["answerable"])
    run["metrics"] = aggregate_by_type(run["questions"], list(run["metrics"]["per_type"]))
    return run


def test_run_file_contents(real_run):
    run = _load(real_run)
    cfg = run["config"]
    assert cfg["embedder"]["name"] and cfg["embedder"]["fingerprint"]
    assert set(cfg["chunking"]) >= {"chunk_target_words", "chunk_max_words"}
    assert "abstain_threshold" in cfg["settings"] and "eval_tolerance" in cfg["settings"]
    assert "admin_token" not in cfg["settings"]
    from qa.ranker import DEFAULT_PATH, Ranker

    assert cfg["ranker"]["sha256"] == sha256_of(DEFAULT_PATH)
    assert cfg["ranker"]["abstain_threshold"] == Ranker.load().abstain_threshold
    assert "git_commit" in cfg and cfg["timestamp"]
    assert cfg["gold"]["sha256"] == sha256_of(DEFAULT_GOLD)
    assert len(run["questions"]) == sum(1 for line in DEFAULT_GOLD.open() if line.strip())
    q = next(q for q in run["questions"] if q["id"] == "q036")
    assert q["gold"]["evidence_lines"] == [1049]
    assert set(q["ranks"]) == {"hybrid", "dense", "bm25"}
    for key in ("id", "type", "correct", "cited_ok", "found", "answer", "citations"):
        assert key in q
    overall = run["metrics"]["overall"]
    for key in ("answer_accuracy", "citation_accuracy", "abstention", "false_abstention",
                "recall@1", "recall@5", "recall@10", "mrr", "grounding",
                "latency_p50_ms", "latency_p95_ms"):
        assert key in overall
    assert "unanswerable" in run["metrics"]["per_type"]
    md = real_run.with_suffix(".md").read_text(encoding="utf-8")
    assert "## Per vraagtype" in md
    wrong = [q["id"] for q in run["questions"] if not q["correct"] or q["cited_ok"] is False]
    assert all(f"### {qid} " in md for qid in wrong)


def test_scores_at_least_floors(real_run):
    floors = json.loads(FLOORS.read_text(encoding="utf-8"))["floors"]
    assert set(floors) == set(GATED)
    overall = _load(real_run)["metrics"]["overall"]
    low = {k: (overall[k], f) for k, f in floors.items() if overall[k] < f}
    assert not low, f"below the floors in eval/floors.json (score, floor): {low}"


def test_gate_passes_on_itself_and_fails_on_damage(real_run):
    run = _load(real_run)
    assert any(q["correct"] for q in run["questions"] if q["answerable"])
    ok, text = compare_runs(run, copy.deepcopy(run), 0.02)
    assert ok, text

    no_answers = damaged(run, answers=True, citations=False)
    ok, text = compare_runs(no_answers, run, 0.02)
    assert not ok
    right = [q["id"] for q in run["questions"] if q["answerable"] and q["correct"]]
    assert "Antwoord goed → fout" in text and right[0] in text

    if any(q["cited_ok"] for q in run["questions"]):
        no_citations = damaged(run, answers=False, citations=True)
        ok, text = compare_runs(no_citations, run, 0.02)
        assert not ok and "Bron goed → fout" in text


@pytest.fixture(scope="module")
def run_files(real_run):
    bad = real_run.with_name("damaged.json")
    bad.write_text(json.dumps(damaged(_load(real_run))), encoding="utf-8")
    return real_run, bad


def _run(args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})


def test_main_compare_exit_codes(run_files, capsys):
    from eval.run import main

    real, bad = run_files
    assert main(compare=(real, real)) == 0
    assert main(compare=(bad, real)) == 1
    assert main(compare=(real, real.with_name("missing.json"))) == 2
    assert "NIET GESLAAGD" in capsys.readouterr().out


def test_module_cli_compare(run_files):
    real, bad = run_files
    proc = _run(["-m", "eval.run", "--compare", str(bad), str(real)])
    assert proc.returncode == 1, proc.stderr
    assert "goed → fout" in proc.stdout
    assert _run(["-m", "eval.run", "--compare", str(real), str(real)]).returncode == 0


def test_vraagbaak_cli_compare(run_files):
    real, bad = run_files
    same = _run(["-m", "vraagbaak.cli", "eval", "--compare", str(real), str(real)])
    assert same.returncode == 0, same.stdout + same.stderr
    proc = _run(["-m", "vraagbaak.cli", "eval", "--compare", str(bad), str(real)])
    assert proc.returncode != 0
    assert "goed → fout" in proc.stdout


def test_main_full_run_against(real_run, settings, embedder, tmp_path, monkeypatch):
    """The whole CLI path on a few questions: run, write files, compare, exit code."""
    import index.search
    from eval.run import main

    monkeypatch.setattr(index.search, "load_embedder", lambda _s: embedder)  # no 2nd model
    run = _load(real_run)
    wrong = [q for q in run["questions"] if not q["correct"]][:1]
    right = [q for q in run["questions"] if q["correct"]][:3]
    picked = {q["id"] for q in wrong + right}
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(line for line in DEFAULT_GOLD.open(encoding="utf-8")
                            if json.loads(line)["id"] in picked), encoding="utf-8")
    subset = copy.deepcopy(run)
    subset["questions"] = [q for q in run["questions"] if q["id"] in picked]
    subset["metrics"] = aggregate_by_type(subset["questions"], list(run["metrics"]["per_type"]))
    old = tmp_path / "old.json"
    old.write_text(json.dumps(subset), encoding="utf-8")

    out = tmp_path / "runs" / "new.json"
    assert main(gold=gold, index=settings.index_dir, out=out, against=old,
                settings=settings) == 0
    assert out.is_file() and out.with_suffix(".md").is_file()
    assert len(_load(out)["questions"]) == len(picked)
    if wrong:  # pretend the old run had the wrong one right: a right->wrong flip
        for q in subset["questions"]:
            if q["id"] == wrong[0]["id"]:
                q["correct"] = True
        old.write_text(json.dumps(subset), encoding="utf-8")
        assert main(gold=gold, index=settings.index_dir, out=out, against=old,
                    settings=settings) == 1
