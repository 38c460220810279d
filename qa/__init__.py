"""QA stage: a question in, a cited ``Answer`` out (or an honest "niet gevonden")."""

from qa.chain import QA, build_chain, validate_question
from qa.ranker import RankerProblem
from qa.types import NOT_FOUND, Answer, Citation, QuestionError

__all__ = ["NOT_FOUND", "QA", "Answer", "Citation", "QuestionError", "RankerProblem",
           "build_chain", "validate_question"]
