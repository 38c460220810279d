"""The REST API: /api/ask, /api/health, /api/documents, /api/feedback, /api/upload.

Why plain ``def`` endpoints: answering is CPU-bound (torch, faiss, bm25s), so FastAPI runs
each call in its threadpool instead of blocking the event loop; the pipeline is shared and
made for that (the embedder serialises model calls with its own lock, BM25 scoring has a
lock, the rest is read-only). Error details are Dutch because scripts written by staff
show them to people.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field

from qa import QuestionError
from vraagbaak import auth
from vraagbaak.feedback import FeedbackError, make_record

MAX_UPLOAD_FILES = 20


class AskRequest(BaseModel):
    question: str = Field(..., description="De vraag in gewone taal.",
                          examples=["wanneer loopt de Sportaal-opdracht af?"])


class CitationOut(BaseModel):
    n: int
    source: str
    section: str
    line_start: int
    line_end: int
    page: int | None
    quote: str = Field(description="Letterlijke tekst uit het document.")
    text: str = Field(description="Het hele fragment waarin het citaat staat.")


class AskResponse(BaseModel):
    question: str
    found: bool
    answer: str = Field(description="Antwoord met [n]-verwijzingen, of 'Niet gevonden in "
                        "de documenten.'")
    citations: list[CitationOut]
    latency_ms: float


class Health(BaseModel):
    status: str
    index_loaded: bool
    documents: int
    chunks: int
    embedder: str


class FeedbackRequest(BaseModel):
    question: str
    answer: str = ""
    citations: list[dict] = Field(default_factory=list)
    verdict: Literal["up", "down"]
    comment: str | None = None


def api_router(service, settings) -> APIRouter:
    def require_admin(request: Request) -> None:
        if auth.admin_token(settings) is None:
            return
        supplied = auth.token_from_headers(request.headers)
        if supplied is None:
            raise HTTPException(401, auth.MISSING, headers={"WWW-Authenticate": "Bearer"})
        if not auth.token_matches(settings, supplied):
            raise HTTPException(403, auth.WRONG)

    def require_reader(request: Request) -> None:
        if not getattr(settings, "ask_requires_token", False):
            return
        if auth.admin_token(settings) is None:  # misconfigured: fail closed
            raise HTTPException(503, "De server vraagt een toegangstoken, maar er is er geen "
                                "ingesteld (VRAAGBAAK_ADMIN_TOKEN).")
        require_admin(request)

    router = APIRouter(prefix="/api")

    @router.post("/ask", response_model=AskResponse, dependencies=[Depends(require_reader)],
                 summary="Stel een vraag", responses={400: {"description": "Lege vraag"},
                                                      413: {"description": "Te lange vraag"}})
    def ask(body: AskRequest) -> dict:
        """Antwoord met bronvermelding; hetzelfde JSON-object als één regel van
        ``vraagbaak ask --batch`` (zonder ``id``)."""
        try:
            return service.ask(body.question).to_json()
        except QuestionError as exc:
            too_long = len(" ".join(body.question.split())) > settings.max_question_chars
            raise HTTPException(413 if too_long else 400, str(exc)) from exc

    @router.get("/health", response_model=Health, summary="Status van de dienst")
    def health() -> dict:
        stats = service.index.stats
        return {"status": "ok", "index_loaded": True, "documents": stats["documents"],
                "chunks": stats["chunks"], "embedder": stats["embedder"]}

    @router.get("/documents", dependencies=[Depends(require_reader)],
                summary="Documenten in de index")
    def documents() -> list[dict]:
        return [d.__dict__ for d in service.index.documents]

    @router.post("/feedback", status_code=201, dependencies=[Depends(require_reader)],
                 summary="👍/👎 op een antwoord")
    def feedback(body: FeedbackRequest) -> dict:
        try:
            record = make_record(body.question, body.answer, body.citations, body.verdict,
                                 body.comment)
        except FeedbackError as exc:
            raise HTTPException(400, str(exc)) from exc
        service.feedback.append(record)
        return {"status": "opgeslagen", "timestamp": record["timestamp"]}

    @router.post("/upload", dependencies=[Depends(require_admin)],
                 summary="Documenten toevoegen aan de index")
    def upload(files: list[UploadFile] = File(..., description="Een of meer documenten.")):
        reason = service.upload_unavailable()
        if reason:
            raise HTTPException(403 if not settings.upload_enabled else 409, reason)
        if len(files) > MAX_UPLOAD_FILES:
            raise HTTPException(413, f"Te veel bestanden (maximaal {MAX_UPLOAD_FILES}).")
        result = service.add_documents([(f.filename or "", f.file) for f in files])
        if result.error:
            raise HTTPException(409, result.error)
        rejected = [{"file": name, "reason": why} for name, why, _ in result.rejected]
        if not result.added:
            status = result.rejected[0][2] if result.rejected else 400
            raise HTTPException(status, {"message": "Er is geen document toegevoegd.",
                                         "rejected": rejected})
        return {"added": result.added, "rejected": rejected,
                "documents": len(service.index.documents)}

    return router
