"""Values that leave the QA stage, and their public JSON form.

``Answer.to_json`` is the line format of ``vraagbaak ask --batch`` and ``POST /api/ask``;
maintainers script against it, so its keys only ever grow, never change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from index import Hit

NOT_FOUND = "Niet gevonden in de documenten."


@dataclass(frozen=True)
class Citation:
    n: int
    source: str
    section: str
    line_start: int
    line_end: int
    page: int | None
    quote: str  # verbatim document text, verified against the original lines
    chunk_text: str
    quote_start: int  # char offsets of the quote inside chunk_text
    quote_end: int
    # The document goes on where the quote stops: a sentence cut at the length limit, or
    # a list that runs past the items quoted. The answer shows "…" so no reader takes
    # a part for the whole.
    continues: bool = False

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "source": self.source,
            "section": self.section,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "page": self.page,
            "quote": self.quote,
            "text": self.chunk_text,
        }


@dataclass
class Answer:
    question: str
    found: bool
    text: str
    citations: list[Citation] = field(default_factory=list)
    passages: list[Hit] = field(default_factory=list)  # best hits, also when not found
    latency_ms: float = 0.0
    question_type: str = "what"
    confidence: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    searched_as: str | None = None  # the question with its typos repaired, if it had any

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "found": self.found,
            "answer": self.text,
            "citations": [c.to_json() for c in self.citations],
            "latency_ms": round(self.latency_ms, 1),
        }


class QuestionError(ValueError):
    """A question that cannot be asked; the message is Dutch and shown to the user."""
