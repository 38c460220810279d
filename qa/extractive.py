"""The extractive answerer: the best one or two document sentences, each cited.

Candidates are the sentences of the top hits, each with its own line span. A sentence is
scored on four signals that are cheap at query time: cosine of its stored vector with the
query, the IDF-weighted share of question terms it contains, the same share over its
chunk and section (a sentence often relies on its heading for the topic), and whether it
carries the surface form the question type asks for (qa/cues.py), plus the chunk's
retrieval rank. The same score, thresholded, decides abstention. Every quote is verified
against the original lines before it can be shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from index import Hit
from ingest import quote_in_lines
from ingest.types import Chunk, Sentence
from qa.cues import cue_score, question_type
from qa.types import NOT_FOUND, Answer, Citation


@dataclass
class Candidate:
    hit_rank: int
    chunk: Chunk
    sentence: Sentence
    score: float
    features: dict


class ExtractiveAnswerer:
    def __init__(self, index, settings):
        self.index = index
        self.s = settings

    def run(self, question: str, hits: list[Hit]) -> Answer:
        qtype = question_type(question)
        candidates = self.candidates(question, hits, qtype)
        answer = Answer(question=question, found=False, text=NOT_FOUND, passages=hits,
                        question_type=qtype)
        if not candidates:
            return answer
        best = candidates[0]
        answer.confidence = best.score
        if best.score < self.s.abstain_threshold:
            return answer
        chosen = self._choose(candidates, qtype)
        citations = []
        for cand in chosen:
            citation = self._cite(cand, len(citations) + 1)
            if citation is not None:
                citations.append(citation)
        if not citations:
            return answer
        answer.found = True
        answer.citations = citations
        return answer

    def candidates(self, question: str, hits: list[Hit], qtype: str) -> list[Candidate]:
        weights = self.index.term_weights(question)
        total = sum(weights.values()) or 1.0
        qvec = self.index.embed_query(question)
        s = self.s
        out = []
        for rank, hit in enumerate(hits[: s.answer_hits]):
            chunk = hit.chunk
            if not chunk.sentences:
                continue
            dense = self.index.sentence_similarities(chunk, qvec)
            context = self.index.terms(" ".join([chunk.title, *chunk.section, chunk.text]))
            ctx = sum(w for t, w in weights.items() if t in context) / total
            for sentence, sim in zip(chunk.sentences, dense, strict=True):
                terms = self.index.terms(sentence.text)
                lex = sum(w for t, w in weights.items() if t in terms) / total
                cue = cue_score(qtype, sentence.text)
                n_words = len(sentence.text.split())
                features = {"dense": float(sim), "lex": lex, "ctx": ctx, "cue": cue,
                            "rank": 1.0 / (1 + rank), "short": float(n_words < 4)}
                score = (
                    s.w_dense * (float(sim) - s.dense_floor)
                    + s.w_lex * lex
                    + s.w_ctx * ctx
                    + s.w_cue * cue
                    + s.w_rank * features["rank"]
                    - s.w_short * features["short"]
                )
                out.append(Candidate(rank, chunk, sentence, score, features))
        out.sort(key=lambda c: -c.score)
        return out

    def _choose(self, candidates: list[Candidate], qtype: str) -> list[Candidate]:
        """The best sentence (grown into the list it opens, for list questions), plus the
        runner-up when it is nearly as good and fits in the answer."""
        best = candidates[0]
        opens_list = best.sentence.text.rstrip().endswith(":")
        if qtype == "list" or opens_list:
            best = self._grow(best, forward_only=opens_list)
        chosen = [best]
        budget = self.s.answer_max_chars - len(best.sentence.text)
        for cand in candidates[1 : self.s.answer_max_sentences * 4]:
            if len(chosen) >= self.s.answer_max_sentences:
                break
            if best.score - cand.score > self.s.second_sentence_margin:
                break
            if any(_overlaps(cand, c) for c in chosen):
                continue
            if len(cand.sentence.text) + 6 <= budget:
                chosen.append(cand)
                budget -= len(cand.sentence.text) + 6
        chosen.sort(key=lambda c: (c.chunk.source, c.sentence.line_start, c.sentence.start))
        return chosen

    def _grow(self, cand: Candidate, forward_only: bool) -> Candidate:
        """Extend a sentence with its neighbours in the chunk: enumerations are split into
        one sentence per item, but the answer is the list. A sentence ending in ":" opens
        its list, so it grows forward only; a list item grows both ways."""
        sentences = cand.chunk.sentences
        i = j = sentences.index(cand.sentence)
        limit = self.s.answer_max_chars - 6

        def fits(a: int, b: int) -> bool:
            return (b - a + 1 <= self.s.answer_list_sentences
                    and sentences[b].end - sentences[a].start <= limit)

        grown = True
        while grown:
            grown = False
            if j + 1 < len(sentences) and fits(i, j + 1):
                j, grown = j + 1, True
            if not forward_only and i > 0 and fits(i - 1, j):
                i, grown = i - 1, True
        if i == j:
            return cand
        first, last = sentences[i], sentences[j]
        merged = Sentence(
            text=cand.chunk.text[first.start : last.end],
            start=first.start,
            end=last.end,
            line_start=first.line_start,
            line_end=max(s.line_end for s in sentences[i : j + 1]),
            page=first.page,
        )
        return Candidate(cand.hit_rank, cand.chunk, merged, cand.score, cand.features)

    def _cite(self, cand: Candidate, n: int) -> Citation | None:
        sent, chunk = cand.sentence, cand.chunk
        quote, end = sent.text, sent.end
        limit = self.s.answer_max_chars - 6
        if len(quote) > limit:  # keep the quote verbatim: cut at a word boundary
            quote = quote[:limit].rsplit(" ", 1)[0]
            end = sent.start + len(quote)
        original = self.index.source_lines(chunk.source, sent.line_start, sent.line_end)
        if not quote_in_lines(quote, original):
            return None
        return Citation(
            n=n,
            source=chunk.source,
            section=chunk.section_path,
            line_start=sent.line_start,
            line_end=sent.line_end,
            page=sent.page,
            quote=quote,
            chunk_text=chunk.text,
            quote_start=sent.start,
            quote_end=end,
        )


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return (a.chunk.id == b.chunk.id and a.sentence.start < b.sentence.end
            and b.sentence.start < a.sentence.end) or a.sentence.text == b.sentence.text
