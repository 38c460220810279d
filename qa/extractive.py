"""The extractive answerer: the best one or two document sentences, each cited.

Candidates are the sentences of the top hits, each with its own line span. Their
features (qa/features.py) are weighed by the learned ranker (qa/ranker.py); the ranker
also judges from the best candidates whether the documents answer the question at all,
and below the threshold the answer is "niet gevonden". Every quote is verified against
the original lines before it can be shown.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import partial

from index import Hit
from ingest import quote_in_lines
from ingest.types import Chunk, Sentence
from qa.cues import (
    BACKWARD_REASON,
    REASON,
    asked_unit,
    enumeration,
    is_item,
    names_no_officer,
    new_value,
    other_year,
    question_type,
)
from qa.features import Candidate, build_candidates
from qa.ranker import Ranker
from qa.tables import is_row, table_cell
from qa.types import NOT_FOUND, Answer, Citation

log = logging.getLogger(__name__)
# Room around each quote in the answer text: " … [n] " (qa/chain.py's formatter).
QUOTE_OVERHEAD = 8
_GOES_ON = (";", ":", ",")  # a quote ending so stops inside an enumeration
# Questions whose answer may name another year than they do: "wanneer kwam de verklaring
# over 2024?" (9 april 2025), "is het verzuim gedaald t.o.v. 2024?"
YEAR_IS_ANSWER = ("date", "yes_no")
# What something costs may be nothing: "Mantelzorgers krijgen de vergunning kosteloos."
FREE = re.compile(r"\b(?:gratis|kosteloos|kosteloze|geen kosten|zonder kosten|vrijgesteld)\b",
                  re.IGNORECASE)


class ExtractiveAnswerer:
    def __init__(self, index, settings, ranker: Ranker | None = None):
        self.index = index
        self.s = settings
        self.ranker = (ranker or Ranker.load(settings.ranker_path)).overridden(settings)
        self.quote_limit = quote_limit(settings)
        indexed_with = (getattr(index, "manifest", None) or {}).get("embedder", {}).get("name")
        if self.ranker.embedder and indexed_with and indexed_with != self.ranker.embedder:
            # Cosine levels differ per model, so the weights and threshold no longer fit;
            # answers still come, but "niet gevonden" is miscalibrated until a refit.
            log.warning("Het rangschikmodel is gefit op %s, de index gebruikt %s. Fit het "
                        "opnieuw: python -m eval.calibrate --index INDEX --write",
                        self.ranker.embedder, indexed_with)

    def run(self, question: str, hits: list[Hit]) -> Answer:
        qtype = question_type(question)
        pool = build_candidates(question, hits, qtype, self.index, self.s.answer_hits)
        self.ranker.score(pool)
        answer = Answer(question=question, found=False, text=NOT_FOUND, passages=hits,
                        question_type=qtype)
        if not pool.items:
            return answer
        answer.confidence = self.ranker.answerable(pool)
        if answer.confidence < self.ranker.threshold(qtype):
            return answer
        citations = []
        for cand in self._choose(pool.items, qtype, question):
            citation = self._cite(cand, len(citations) + 1)
            if citation is not None:
                citations.append(citation)
        if not citations or misses_form(question, qtype, [c.quote for c in citations]):
            return answer
        answer.found = True
        answer.citations = citations
        return answer

    def _choose(self, candidates: list[Candidate], qtype: str,
                question: str) -> list[Candidate]:
        """A table row under its header when the question asks for one year's cell or a
        value the best sentence lacks (qa/tables.py); else the best sentence, grown into
        its list (for list questions, a sentence that opens a list, or an enumerated item
        answering why/what), or with the sentence after it when a why-answer lacks a
        reason or the sentence is a question; plus the runner-up when it is nearly as
        good and fits in the answer."""
        if qtype in ("number", "money", "date", "what"):
            cell = table_cell(candidates, question, qtype, self.index,
                              self.s.answer_pair_max_words)
            if cell is not None:
                return self._with_header(*cell)
        return quotes_for(candidates, qtype, self.ranker.second_sentence_margin, self.s)

    @staticmethod
    def _with_header(header: Candidate | None, row: Candidate) -> list[Candidate]:
        """The header and the row as one quote when they are adjacent lines, else as two
        quotes: the rows between would only hide the one asked for."""
        if header is None:
            return [row]
        sentences = header.chunk.sentences
        i, j = sentences.index(header.sentence), sentences.index(row.sentence)
        return [_merged(row, i, j)] if j == i + 1 else [header, row]

    def _cite(self, cand: Candidate, n: int) -> Citation | None:
        sent, chunk = cand.sentence, cand.chunk
        quote, end = sent.text, sent.end
        limit = self.quote_limit
        cut = len(quote) > limit
        if cut:  # keep the quote verbatim: cut at a word boundary
            quote = quote[:limit].rsplit(" ", 1)[0]
            end = sent.start + len(quote)
        original = self.index.provable_lines(chunk.source, sent.line_start, sent.line_end)
        if not quote_in_lines(quote, original):
            return None
        return Citation(
            n=n,
            source=chunk.source,
            section=_section_of(chunk, sent),
            line_start=sent.line_start,
            line_end=sent.line_end,
            page=sent.page,
            quote=quote,
            chunk_text=chunk.text,
            quote_start=sent.start,
            quote_end=end,
            continues=cut or _goes_on(quote),
        )


def misses_form(question: str, qtype: str, quotes: list[str]) -> bool:
    """Quotes that cannot answer, whatever they say about the question's subject: they
    speak only of other years than the one asked ("hoeveel casussen in 2024?" - "In 2025
    werden 186 casussen aangemeld"), lack the unit asked for ("hoeveel uur per week"),
    hold no amount where the question asks what something costs ("wat kost de
    wadistrook?" - "Langs de Kerkstraat komt een wadistrook"; a table row's bare numbers
    count as amounts), or name no officer where one is asked for ("wie is de directeur
    van de bibliotheek?" - "Het Taalhuis wordt gecoördineerd door de Bibliotheek").
    Measured in docs/calibration.md."""
    text = " ".join(quotes)
    if qtype not in YEAR_IS_ANSWER and other_year(question, text):
        return True
    unit = asked_unit(question)
    if unit is not None and not unit.search(text):
        return True
    if names_no_officer(question, text):
        return True
    return qtype == "money" and not (
        new_value("money", text, question) or FREE.search(text)
        or any(is_row(line) for q in quotes for line in q.split("\n")))


def shown(cand: Candidate, qtype: str, settings) -> Candidate:
    """What is quoted when ``cand`` is the best sentence: grown into its list, or with
    its reason. eval/calibrate.py scores its held-out choices by this same quote."""
    limit = quote_limit(settings)
    text = cand.sentence.text.rstrip()
    opens_list = _opens_list(cand.sentence)
    in_list = qtype in ("why", "what") and text.endswith(";")
    if qtype == "list" and not opens_list:
        return _list_of(cand, limit, settings.answer_list_sentences)
    if qtype == "list" or opens_list or in_list:
        return _grow(cand, opens_list, limit, settings.answer_list_sentences)
    if qtype in ("why", "what", "yes_no") or _asks(cand):
        # yes or no rests on one statement; a list would crowd out the runner-up saying it
        items = 0 if qtype == "yes_no" else settings.answer_list_sentences
        return _with_reason(cand, limit, items)
    return cand


def quotes_for(ranked: list[Candidate], qtype: str, margin: float,
               settings) -> list[Candidate]:
    """The best sentence as shown, plus its runners-up. For a list question a runner-up
    that is itself an enumeration item is grown into its list like the best one: an item
    alone ("3. in te stemmen met het Participatieplan;") names one of the things asked
    for, its list names them all. A best sentence that gave way to the list it led up to
    is the first runner-up. eval/calibrate.py scores its choices by this same rule."""
    grow = (partial(_grow_member, max_items=settings.answer_list_sentences)
            if qtype == "list" else None)
    best, rest = shown(ranked[0], qtype, settings), ranked[1:]
    if not _holds(best, ranked[0]):  # its lead-up gave way to a list: it may still fit
        rest = [ranked[0], *rest]
    return with_runner_ups(best, rest, margin,
                           settings.answer_max_sentences, settings.answer_max_chars,
                           settings.answer_repeat_min_words, grow)


def _grow_member(cand: Candidate, room: int, max_items: int) -> Candidate:
    sentences = cand.chunk.sentences
    if not enumeration(sentences)[sentences.index(cand.sentence)]:
        return cand
    return _grow(cand, _opens_list(cand.sentence), room, max_items)


def quote_limit(settings) -> int:
    """One quote's longest: the answer's limit less the room around its marker."""
    return settings.answer_max_chars - QUOTE_OVERHEAD


def _grow(cand: Candidate, forward_only: bool, limit: int, max_items: int) -> Candidate:
    """Extend a sentence with its neighbours in the chunk: enumerations are split into
    one sentence per item, but the answer is the list. A sentence ending in ":" opens
    its list, so it grows forward only; a list item grows both ways, back to the
    sentence that opens its list: the text before that is about something else. Nor
    does a list grow forward past its last item: what follows is the next topic, and
    its room is better spent on the items before."""
    sentences = cand.chunk.sentences
    i = sentences.index(cand.sentence)
    return _merged(cand, *_span(sentences, i, forward_only, limit, max_items))


def _span(sentences: list[Sentence], start: int, forward_only: bool, limit: int,
          max_items: int) -> tuple[int, int]:
    i = j = start

    def fits(a: int, b: int) -> bool:
        return (b - a + 1 <= max_items
                and sentences[b].end - sentences[a].start <= limit)

    grown = True
    while grown:  # a heading ends the list: it belongs to the next or previous section
        grown = False
        if _runs_on(sentences, j) and fits(i, j + 1):
            j, grown = j + 1, True
        if (not forward_only and i > 0 and not sentences[i - 1].heading
                and not _opens_list(sentences[i]) and fits(i - 1, j)):
            i, grown = i - 1, True
    return i, j


def _list_of(cand: Candidate, limit: int, max_items: int) -> Candidate:
    """A list question's quote: the best sentence grown into its list. When the best
    sentence only leads up to the sentence that opens the list ("De brandweerpost dateert
    uit 1968. Bij een inspectie werden de volgende gebreken vastgesteld:") and the items
    do not all fit after it, the lead-up gives way to the items: they are what was asked."""
    sentences = cand.chunk.sentences
    start = sentences.index(cand.sentence)
    i, j = _span(sentences, start, False, limit, max_items)
    opener = next((k for k in range(start + 1, j + 1) if _opens_list(sentences[k])), None)
    if opener is not None and _list_goes_on(sentences, j):
        k, end = _span(sentences, opener, True, limit, max_items)
        if end > j:
            i, j = k, end
    return _merged(cand, i, j)


def _list_goes_on(sentences: list[Sentence], j: int) -> bool:
    """An item follows: one that ends in ";" or starts with "a." or "2)". A sentence after
    a label ("Einddatum:") passes for a list member too, but is no sign of a list."""
    return _runs_on(sentences, j) and is_item(sentences[j + 1].text)


def _runs_on(sentences: list[Sentence], j: int) -> bool:
    """May a quote ending at sentence ``j`` take the next one? Not past a heading, which
    belongs to the next section, nor past a list's last item."""
    return (j + 1 < len(sentences) and not sentences[j + 1].heading
            and not _closes_list(sentences, j))


def _closes_list(sentences: list[Sentence], j: int) -> bool:
    """Items ending in ";" and then one ending in "." : that was the last item."""
    return (j > 0 and sentences[j].text.rstrip().endswith(".")
            and sentences[j - 1].text.rstrip().endswith(";"))


def _with_reason(cand: Candidate, limit: int, max_items: int) -> Candidate:
    """For "waarom", "wat" and yes/no: a best sentence without a reason cue names the
    topic, and documents go on in the sentence after it ("Waarom is dit nodig? Twente
    wil ...", "De verdeling volgt de verdeelsleutel. Die sleutel is gebaseerd op ...",
    "Er is gesuggereerd dat stikstof de oorzaak is. Dat is niet juist."), so that
    sentence is quoted too, unless a heading or the length limit stands between
    (measured in docs/calibration.md). A question the document asks itself is answered
    in the next sentence whatever the question type. A sentence that points back
    ("daalt daardoor") is quoted with the sentence before it. A next sentence that opens
    a list is quoted with up to ``max_items`` sentences that fit: alone it only says that
    items follow (measured in docs/calibration.md)."""
    text = cand.sentence.text
    sentences = cand.chunk.sentences
    i = sentences.index(cand.sentence)
    if (BACKWARD_REASON.search(text) and not _asks(cand)
            and not REASON.search(BACKWARD_REASON.sub("", text))):
        if (i > 0 and not sentences[i - 1].heading
                and sentences[i].end - sentences[i - 1].start <= limit):
            return _merged(cand, i - 1, i)
        return cand
    if REASON.search(text) and not _asks(cand):
        return cand
    if (i + 1 < len(sentences) and not sentences[i + 1].heading
            and sentences[i + 1].end - sentences[i].start <= limit):
        if max_items and _opens_list(sentences[i + 1]):  # "bedoeld voor:" promises items
            return _merged(cand, *_span(sentences, i, True, limit, max_items))
        return _merged(cand, i, i + 1)
    return cand


def with_runner_ups(best: Candidate, rest: list[Candidate], margin: float,
                    max_sentences: int, max_chars: int,
                    repeat_min_words: int = 4,
                    grow: Callable[[Candidate, int], Candidate] | None = None,
                    ) -> list[Candidate]:
    """``best`` plus the runners-up (``rest``, best first) that score within ``margin`` of
    it and fit in the answer, best first: staff read the first sentence as the answer, and
    reading order put a weaker neighbour before it. A runner-up that repeats a chosen
    sentence from another place adds a source, not a sentence, if it is a statement
    (``repeat_min_words``) and not a stray word such as a table header. ``grow`` widens a
    runner-up into at most the room left, unless that would repeat what is chosen.
    eval/calibrate.py chooses the margin with this same rule."""
    chosen = [best]
    sentences, budget = 1, max_chars - _room(best, first=True)
    for cand in rest[: max_sentences * 4 - 1]:
        if sentences >= max_sentences:
            break
        if best.score - cand.score > margin:
            break
        if grow is not None:
            grown = grow(cand, budget - QUOTE_OVERHEAD)
            if not any(_overlaps(grown, c) for c in chosen):
                cand = grown
        if _asks(cand) or any(_overlaps(cand, c) for c in chosen):
            continue  # a question in the document never answers one
        if any(repeats(cand.sentence.text, c.sentence.text) for c in chosen):
            if len(cand.sentence.text.split()) >= repeat_min_words and budget >= 4:
                chosen.append(cand)  # the same words elsewhere: only a marker is added
                budget -= 4
            continue
        if _room(cand) <= budget:
            sentences += 1
            chosen.append(cand)
            budget -= _room(cand)
    return chosen


def _room(cand: Candidate, first: bool = False) -> int:
    """What a quote takes in the answer text (qa/chain.py's formatter): the quote, " …"
    where it stops inside an enumeration, its marker " [n]", and the space before it
    unless it comes first. Counted exactly: a margin of a few characters either way put
    answers over the limit or left out a runner-up that fitted."""
    text = cand.sentence.text
    return (len(text) + len(" [n]") + (0 if first else 1)
            + (len(" …") if _goes_on(text) else 0))


def _goes_on(quote: str) -> bool:
    """Does the quote stop inside an enumeration? Then the answer shows " …" after it:
    _cite marks it so and _room counts the room it takes, by this one test."""
    return quote.rstrip().endswith(_GOES_ON)


def _section_of(chunk: Chunk, sentence: Sentence) -> str:
    """The chunk's section path, plus the last heading above the quote inside the chunk:
    merged small sections share only their parent's path, but staff want the quote's own
    heading ("2. Voor welke belastingen"), not the document title."""
    heading = next((s.text for s in reversed(chunk.sentences)
                    if s.heading and s.start < sentence.start), None)
    if heading is None or heading in chunk.section:
        return chunk.section_path
    return " > ".join([*chunk.section, heading])


def _overlaps(a: Candidate, b: Candidate) -> bool:
    """Would runner-up ``a`` show nothing new at the same place as ``b``? Chunks overlap
    and a grown list holds its items, so the same lines come back from another chunk or
    inside a longer quote. The same words elsewhere are a second source and stay: the
    formatter gives them a marker instead of repeating the text."""
    if a.chunk.id == b.chunk.id:
        return a.sentence.start < b.sentence.end and b.sentence.start < a.sentence.end
    return (a.chunk.source == b.chunk.source
            and a.sentence.line_start <= b.sentence.line_end
            and b.sentence.line_start <= a.sentence.line_end
            and repeats(a.sentence.text, b.sentence.text))


def _holds(quote: Candidate, cand: Candidate) -> bool:
    return (quote.chunk.id == cand.chunk.id and quote.sentence.start <= cand.sentence.start
            and cand.sentence.end <= quote.sentence.end)


def _opens_list(sentence: Sentence) -> bool:
    return sentence.text.rstrip().endswith(":")


def _asks(cand: Candidate) -> bool:
    return cand.sentence.text.rstrip().endswith("?")


def repeats(later: str, earlier: str) -> bool:
    """``later`` says nothing that ``earlier`` does not, ignoring case and line breaks."""
    x, y = (" ".join(t.lower().split()) for t in (later, earlier))
    return x in y


def _merged(cand: Candidate, i: int, j: int) -> Candidate:
    """``cand`` widened to sentences i..j of its chunk, as one quote with one line span."""
    sentences = cand.chunk.sentences
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
    return Candidate(cand.hit_rank, cand.chunk, merged, cand.features, cand.score)
