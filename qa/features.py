"""Features of candidate answer sentences and of the question as a whole.

Each is a cheap, generic signal, never a word list for one document: how close the
sentence is to the question (its late-chunked and its plain vector, its share of the question's
IDF-weighted terms, the same share in its neighbours, heading and chunk), how it compares
with the best candidate for the same question, whether it has the surface form the
question type asks for (qa/cues.py), and where its chunk came from in retrieval. The
ranker (qa/ranker.py) weighs them with weights learned on the gold set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from index import Hit
from ingest.types import Chunk, Sentence
from qa.cues import CUE_TYPES, cue_score, enumeration, new_value, subject
from qa.tables import VALUE_TYPES, is_row

SENTENCE_FEATURES = (
    "dense", "dense_gap", "plain", "plain_gap", "lex", "lex_gap", "rare", "prev_lex", "next_lex",
    "heading", "ctx", "echo", "heading_like", "no_stop", "rank", "chunk_dense", "in_bm25",
    "first", "log_words", "short", "opens_list", "list_item", "digits", "new_value",
    "table_row", "row_lex",
    *(f"cue_{t}" for t in CUE_TYPES),
)
# Whether the question is answered at all, judged from its best candidates once ranked.
# No word-overlap feature: users paraphrase, and on questions written by others the
# overlap features made the model refuse answerable questions (docs/calibration.md).
QUESTION_FEATURES = (
    "best_vs_mean", "margin", "max_dense", "max_plain", "top_chunk_dense",
    "cue_plain", "best_new_value", "new_value_plain",
)


@dataclass
class Candidate:
    hit_rank: int
    chunk: Chunk
    sentence: Sentence
    features: dict[str, float]
    score: float = 0.0


@dataclass
class Candidates:
    """The scored pool for one question, plus what the question as a whole looks like."""

    qtype: str
    items: list[Candidate] = field(default_factory=list)
    question: dict[str, float] = field(default_factory=dict)


def _share(weights: dict[str, float], terms: frozenset[str], total: float) -> float:
    return sum(w for t, w in weights.items() if t in terms) / total


def build_candidates(question: str, hits: list[Hit], qtype: str, index, n_hits: int) -> Candidates:
    """Sentence features for the sentences of the first ``n_hits`` hits."""
    weights = index.term_weights(subject(question))
    total = sum(weights.values()) or 1.0
    # The two rarest question terms: the ones that name what the question is about.
    rare = dict(sorted(weights.items(), key=lambda kv: -kv[1])[:2])
    rare_total = sum(rare.values()) or 1.0
    qvec = index.embed_query(question)
    pool = Candidates(qtype)
    for rank, hit in enumerate(hits[:n_hits]):
        chunk = hit.chunk
        if not chunk.sentences:
            continue
        dense, plain = index.sentence_similarities(chunk, qvec)
        heading = index.terms(" ".join([chunk.title, *chunk.section]))
        context = index.terms(" ".join([chunk.title, *chunk.section, chunk.text]))
        sentence_terms = [index.terms(s.text) for s in chunk.sentences]
        lex = [_share(weights, t, total) for t in sentence_terms]
        listed = enumeration(chunk.sentences) if qtype == "list" else None
        rows = [qtype in VALUE_TYPES and is_row(s.text) for s in chunk.sentences]
        for i, sentence in enumerate(chunk.sentences):
            n_words = len(sentence.text.split())
            terms = sentence_terms[i]
            text = sentence.text.rstrip()
            features = {
                "dense": float(dense[i]),
                "plain": float(plain[i]),
                "lex": lex[i],
                "rare": _share(rare, terms, rare_total),
                "prev_lex": lex[i - 1] if i > 0 else 0.0,
                "next_lex": lex[i + 1] if i + 1 < len(lex) else 0.0,
                # How much of the sentence is the question's own words: a restatement
                # of the question or new facts about it; the sign is learned.
                "echo": len(terms & weights.keys()) / max(len(terms), 1),
                # A heading repeated in the text names a topic; it never answers.
                "heading_like": float(bool(terms) and terms <= heading),
                "no_stop": float(not text.endswith((".", "!", "?", ":", ";"))),
                "heading": _share(weights, heading, total),
                "ctx": _share(weights, context, total),
                "rank": 1.0 / (1 + rank),
                "chunk_dense": float(hit.dense_score or 0.0),
                "in_bm25": float(hit.bm25_score is not None),
                "first": float(i == 0),
                "log_words": math.log(1 + n_words),
                "short": float(n_words < 4),
                "opens_list": float(text.endswith(":")),
                # Only for list questions: the list is the answer, a member grows into it.
                "list_item": float(listed is not None and listed[i]),
                "digits": float(any(ch.isdigit() for ch in sentence.text)),
                # Only for number, amount and date questions: a table row holds the
                # value, and its label, not its wording, says whether it is the one.
                "table_row": float(rows[i]),
                "row_lex": lex[i] if rows[i] else 0.0,
            }
            features["new_value"] = new_value(qtype, sentence.text, question)
            cue = cue_score(qtype, sentence.text)
            for t in CUE_TYPES:
                features[f"cue_{t}"] = cue if t == qtype else 0.0
            pool.items.append(Candidate(rank, chunk, sentence, features))
    best = {n: max((c.features[n] for c in pool.items), default=0.0)
            for n in ("dense", "plain", "lex")}
    for c in pool.items:  # relative to this question's best: cosines drift per question
        for n in best:
            c.features[f"{n}_gap"] = c.features[n] - best[n]
    pool.question = {
        "max_dense": best["dense"],
        "max_plain": best["plain"],
        "top_chunk_dense": float(hits[0].dense_score or 0.0) if hits else 0.0,
    }
    return pool


def question_features(pool: Candidates) -> dict[str, float]:
    """Completes ``pool.question`` once the candidates are scored and sorted."""
    items = pool.items
    if not items:
        return dict.fromkeys(QUESTION_FEATURES, 0.0)
    best = items[0]
    features = dict(pool.question)
    # Differences only: the sentence model is a softmax, so its scores have no fixed zero.
    features["best_vs_mean"] = best.score - sum(c.score for c in items) / len(items)
    features["margin"] = best.score - items[1].score if len(items) > 1 else 0.0
    # The closest sentence that also has the form the answer needs (a number for
    # "hoeveel", a date for "wanneer"): the question is about X, but is X's number here?
    cue = f"cue_{pool.qtype}"
    features["cue_plain"] = max((c.features["plain"] for c in items
                                 if c.features.get(cue, 1.0) >= 1.0), default=0.0)
    features["best_new_value"] = best.features["new_value"]
    features["new_value_plain"] = max((c.features["plain"] for c in items
                                       if c.features["new_value"] >= 0.5), default=0.0)
    return features


def matrix(items: list[Candidate], names=SENTENCE_FEATURES) -> np.ndarray:
    return np.array([[c.features[n] for n in names] for c in items], dtype=np.float64)
