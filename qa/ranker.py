"""The learned part of the answerer, as plain data: two linear models in ranker.json.

* The sentence model scores every candidate sentence; it was fitted as a softmax over
  each question's candidates (pick the sentence that answers), so its scores compare
  sentences of one question and their differences are log-odds.
* The question model turns the best candidates' evidence into the probability that the
  documents answer the question at all; under the threshold for the question's type
  (``type_thresholds``, else ``abstain_threshold``) the answer is "niet gevonden". One
  threshold per type because the model is surer of "wanneer" than of "wat" questions: a
  single threshold refused 22 % of answerable "wat" questions and 2 % of "wanneer" ones.
  A type whose plausible questions the model cannot tell apart (on 101 sets: "wat" and
  opsommingen) gets a low threshold that only refuses questions off the documents' subject.

Both are refitted by ``python -m eval.calibrate --write`` and checked on held-out
documents and held-out sets there; a linear model over a few dozen generic signals is
what some 3,800 questions by over a hundred writers can support without learning the
questions by heart.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from qa.features import QUESTION_FEATURES, SENTENCE_FEATURES, Candidates, matrix, question_features

DEFAULT_PATH = Path(__file__).with_name("ranker.json")


class RankerProblem(RuntimeError):
    """ranker.json is missing or does not fit the features this code computes."""


@dataclass(frozen=True)
class Ranker:
    sentence_weights: dict[str, float]
    question_weights: dict[str, float]
    question_bias: float
    abstain_threshold: float
    second_sentence_margin: float
    embedder: str | None = None  # the model whose cosines the weights were fitted on
    type_thresholds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> Ranker:
        path = Path(path or DEFAULT_PATH)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            ranker = cls(
                sentence_weights=dict(data["sentence"]["weights"]),
                question_weights=dict(data["question"]["weights"]),
                question_bias=float(data["question"]["bias"]),
                abstain_threshold=float(data["question"]["abstain_threshold"]),
                second_sentence_margin=float(data["sentence"]["second_sentence_margin"]),
                embedder=data.get("embedder"),
                type_thresholds={t: float(v) for t, v in
                                 data["question"].get("type_thresholds", {}).items()},
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RankerProblem(
                f"Het rangschikmodel {path} ontbreekt of is onleesbaar ({exc}). "
                "Maak het opnieuw met: python -m eval.calibrate --write"
            ) from exc
        if (set(ranker.sentence_weights) != set(SENTENCE_FEATURES)
                or set(ranker.question_weights) != set(QUESTION_FEATURES)):
            raise RankerProblem(
                f"Het rangschikmodel {path} past niet bij deze versie van Vraagbaak. "
                "Maak het opnieuw met: python -m eval.calibrate --write"
            )
        return ranker

    def overridden(self, settings) -> Ranker:
        """This ranker with the threshold and margin that settings set explicitly; a
        threshold set so holds for every question type."""
        changes = {name: getattr(settings, name)
                   for name in ("abstain_threshold", "second_sentence_margin")
                   if getattr(settings, name) is not None}
        if "abstain_threshold" in changes:
            changes["type_thresholds"] = {}
        return replace(self, **changes)

    def threshold(self, qtype: str) -> float:
        """The answerability under which a question of this type is "niet gevonden"."""
        return self.type_thresholds.get(qtype, self.abstain_threshold)

    def score(self, pool: Candidates) -> None:
        """Scores and sorts ``pool.items`` best first."""
        if not pool.items:
            return
        w = np.array([self.sentence_weights[n] for n in SENTENCE_FEATURES])
        for cand, s in zip(pool.items, matrix(pool.items) @ w, strict=True):
            cand.score = float(s)
        pool.items.sort(key=lambda c: -c.score)

    def answerable(self, pool: Candidates) -> float:
        """Probability that the scored pool holds the answer."""
        if not pool.items:
            return 0.0
        features = question_features(pool)
        z = self.question_bias + sum(self.question_weights[n] * features[n]
                                     for n in QUESTION_FEATURES)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
