"""The answer chain, as a LangChain LCEL composition: typo repair -> retriever ->
answerer -> formatter.

Composing with LCEL keeps the answerer swappable: an LLM answerer that maps
``{"question", "documents"}`` to an ``Answer`` slots in beside the extractive one without
touching retrieval or formatting.
"""

from __future__ import annotations

import re
import time

from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel, RunnablePassthrough

from index import HybridRetriever
from qa.extractive import ExtractiveAnswerer, repeats
from qa.types import Answer, QuestionError

_HAS_WORD = re.compile(r"[^\W_]", re.UNICODE)


def validate_question(question: object, settings) -> str:
    """The cleaned question, or QuestionError with a Dutch message."""
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("De vraag is leeg. Typ een vraag, bijvoorbeeld: "
                            "'wanneer loopt de Sportaal-opdracht af?'")
    question = " ".join(question.split())
    if len(question) > settings.max_question_chars:
        raise QuestionError(
            f"De vraag is te lang ({len(question)} tekens; maximaal "
            f"{settings.max_question_chars}). Stel een kortere vraag."
        )
    if not _HAS_WORD.search(question):
        raise QuestionError("De vraag bevat geen woorden, alleen leestekens of symbolen.")
    return question


def build_chain(index, settings) -> Runnable:
    retriever = HybridRetriever(index=index, k=settings.top_k)
    answerer = ExtractiveAnswerer(index, settings)

    def answer_step(inputs: dict) -> Answer:
        hits = [doc.metadata["hit"] for doc in inputs["documents"]]
        return answerer.run(inputs["question"], hits)

    return (
        RunnableLambda(index.corrected)
        | RunnableParallel(question=RunnablePassthrough(), documents=retriever)
        | RunnableLambda(answer_step)
        | RunnableLambda(format_answer)
    )


def format_answer(answer: Answer) -> Answer:
    """The short answer text: each quote followed by its citation marker, and by "…"
    where the document goes on. A quote held in an earlier one (the same sentence at
    another place) adds only its marker."""
    if answer.found:
        shown: list[tuple[str, str]] = []  # (quote, its text with markers)
        for c in answer.citations:
            j = next((i for i, (q, _) in enumerate(shown) if repeats(c.quote, q)), None)
            if j is None:
                ellipsis = " …" if c.continues else ""
                shown.append((c.quote, f"{c.quote}{ellipsis} [{c.n}]"))
            else:
                shown[j] = (shown[j][0], f"{shown[j][1]}[{c.n}]")
        answer.text = " ".join(text for _, text in shown)
    return answer


class QA:
    """One obvious entry point: ``QA(index, settings).answer(question)``."""

    def __init__(self, index, settings):
        self.index = index
        self.settings = settings
        self.chain = build_chain(index, settings)

    def answer(self, question: str) -> Answer:
        question = validate_question(question, self.settings)
        t0 = time.perf_counter()
        answer = self.chain.invoke(question)
        if answer.question != question:  # the chain saw it with typos repaired
            answer.searched_as, answer.question = answer.question, question
        answer.latency_ms = (time.perf_counter() - t0) * 1000
        return answer

    def answer_batch(self, questions: list[str]) -> list[Answer]:
        return [self.answer(q) for q in questions]
