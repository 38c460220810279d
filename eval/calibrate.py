"""Recalibrate the answerer's weights and abstention threshold on the gold set.

Run after changing the embedder, the chunking or the scoring features:
``python -m eval.calibrate --index data/index``. It scores candidate sentences once, then
grid-searches the weights on the even-numbered gold questions and reports them on the
odd-numbered ones, so a choice that only fits the questions it was tuned on shows up as a
gap. It prints a threshold table (abstention vs false abstention) and changes nothing:
copying values into settings is a reviewed decision (docs/calibration.md).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from eval.gold import DEFAULT_GOLD, load_gold
from eval.metrics import contains_answer

GRID = {
    "w_dense": [4.0, 6.0, 8.0, 11.0],
    "w_lex": [0.25, 0.5, 1.0],
    "w_ctx": [0.0, 0.3, 0.6],
    "w_cue": [0.2, 0.4, 0.7],
    "w_rank": [0.0, 0.15],
    "w_short": [0.0, 0.3],
}


def _score(features: dict, w: dict, floor: float) -> float:
    return (w["w_dense"] * (features["dense"] - floor) + w["w_lex"] * features["lex"]
            + w["w_ctx"] * features["ctx"] + w["w_cue"] * features["cue"]
            + w["w_rank"] * features["rank"] - w["w_short"] * features["short"])


def collect(index, settings, gold) -> list[dict]:
    from qa.cues import question_type
    from qa.extractive import ExtractiveAnswerer

    answerer = ExtractiveAnswerer(index, settings)
    rows = []
    for item in gold:
        hits = index.search(item.question, settings.top_k)
        cands = answerer.candidates(item.question, hits, question_type(item.question))
        rows.append({"item": item, "cands": [
            (c.features, c.sentence.text, c.chunk.source, c.sentence.line_start,
             c.sentence.line_end) for c in cands]})
    return rows


def evaluate(rows, w, floor, margin) -> tuple[float, float, list, list]:
    right = cited = n = 0
    answerable, unanswerable = [], []
    for row in rows:
        item, scored = row["item"], sorted(
            ((_score(c[0], w, floor), c) for c in row["cands"]), key=lambda x: -x[0])
        best = scored[0][0] if scored else -9.0
        (answerable if item.answerable else unanswerable).append(best)
        if not item.answerable or not scored:
            n += item.answerable
            continue
        chosen = [scored[0]] + [x for x in scored[1:4] if best - x[0] <= margin][:1]
        text = " ".join(c[1][1] for c in chosen)
        n += 1
        right += contains_answer(text, item.must_contain)
        cited += any(c[1][2] == item.source and any(c[1][3] <= e <= c[1][4]
                     for e in item.evidence_lines) for c in chosen)
    return right / max(n, 1), cited / max(n, 1), answerable, unanswerable


def main() -> None:
    from index import Index
    from vraagbaak.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    args = parser.parse_args()
    settings = Settings(**({"index_dir": args.index} if args.index else {}))
    index = Index.load(settings.index_dir, settings)
    rows = collect(index, settings, load_gold(args.gold))
    tune = [r for r in rows if int(r["item"].id.lstrip("q")) % 2 == 0]
    check = [r for r in rows if int(r["item"].id.lstrip("q")) % 2 == 1]
    floor, margin = settings.dense_floor, settings.second_sentence_margin
    results = []
    for values in itertools.product(*GRID.values()):
        w = dict(zip(GRID, values, strict=True))
        a, c, _, _ = evaluate(tune, w, floor, margin)
        results.append((a + c, w))
    results.sort(key=lambda x: -x[0])
    current = {k: getattr(settings, k) for k in GRID}
    print("current", current, "tune/check:",
          [round(x, 3) for x in evaluate(tune, current, floor, margin)[:2]],
          [round(x, 3) for x in evaluate(check, current, floor, margin)[:2]])
    for total, w in results[:5]:
        print(round(total, 3), w, "check:",
              [round(x, 3) for x in evaluate(check, w, floor, margin)[:2]])
    _, _, answerable, unanswerable = evaluate(rows, current, floor, margin)
    a, u = np.array(answerable), np.array(unanswerable)
    print("threshold  abstention  false_abstention  (current weights, all questions)")
    for threshold in np.quantile(a, np.arange(0.0, 0.31, 0.02)):  # false abstention 0-30 %
        print(f"{threshold:9.2f}  {(u < threshold).mean():10.3f}  {(a < threshold).mean():16.3f}")


if __name__ == "__main__":
    main()
