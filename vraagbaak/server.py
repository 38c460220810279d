"""``create_app``: the REST API and the Gradio UI in one FastAPI app, on one port.

Why one process and one app: the model and the index are loaded once (seconds, ~0.5 GB)
and shared by the UI and the API, so both always answer from the same index, also right
after an upload. The index is loaded eagerly: a missing or corrupt index raises
``IndexProblem`` here, so ``vraagbaak serve`` refuses to start instead of failing on the
first question.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from index import Index
from vraagbaak import auth
from vraagbaak.api import MAX_UPLOAD_FILES, api_router
from vraagbaak.service import Service
from vraagbaak.uploads import MB

log = logging.getLogger(__name__)
API_BODY_LIMIT = 512 * 1024  # a question is <= max_question_chars; feedback carries quotes

DESCRIPTION = """Vraagbaak beantwoordt vragen over beleidsdocumenten met exacte
bronvermelding (document, sectie, regels). `POST /api/ask` geeft hetzelfde JSON-object als
een regel van `vraagbaak ask --batch`. Als er een beheerderstoken is ingesteld, stuur het
mee als `Authorization: Bearer <token>` of `X-Vraagbaak-Token: <token>`."""


class BodyLimit:
    """Refuse oversized request bodies (by Content-Length) before they are read.

    Why: FastAPI reads and parses a body of any size; a 1 GB "question" would be read
    into memory before validation could say it is too long.
    """

    def __init__(self, app, limits: dict[str, int], default: int):
        self.app, self.limits, self.default = app, limits, default

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/api/"):
            limit = self.limits.get(path, self.default)
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > limit):
                body = json.dumps({"detail": f"Het verzoek is te groot (maximaal "
                                   f"{limit // 1024} kB)."}).encode()
                await send({"type": "http.response.start", "status": 413, "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _dutch_problem(error: dict) -> str:
    field = ".".join(str(p) for p in error.get("loc", ())[1:] if not isinstance(p, int))
    kind = error.get("type", "")
    if kind == "json_invalid":
        return "de inhoud is geen geldige JSON"
    if kind == "missing":
        return f"het veld '{field}' ontbreekt" if field else "de inhoud ontbreekt"
    return f"het veld '{field}' heeft een ongeldige waarde" if field else (
        "de inhoud heeft een ongeldige vorm")


async def _dutch_validation_error(request: Request, exc: RequestValidationError):
    problems = list(dict.fromkeys(_dutch_problem(e) for e in exc.errors()))
    return JSONResponse(status_code=422, content={
        "detail": "Ongeldig verzoek: " + "; ".join(problems) + ".",
        "errors": jsonable_encoder(exc.errors()),
    })


def _docs_app(**kwargs) -> FastAPI:
    """FastAPI whose /docs page works offline: the default one loads Swagger UI from a
    CDN, which municipal networks (and this build machine) often cannot reach."""
    try:
        from fastapi_offline import FastAPIOffline
    except ImportError:  # pragma: no cover - then /docs needs the CDN
        log.warning("fastapi-offline ontbreekt: /docs laadt Swagger UI van een CDN")
        return FastAPI(**kwargs)
    return FastAPIOffline(**kwargs)


def create_app(settings, *, corpus_root: Path | None = None) -> FastAPI:
    """Load the index (or raise IndexProblem), then build the API and mount the UI."""
    import gradio as gr

    from ui import CSS, build_ui, theme

    index = Index.load(settings.index_dir, settings)
    service = Service(settings, index, corpus_root=corpus_root)
    index.embedder.embed_query("opwarmen")  # first real question should not pay for it

    app = _docs_app(title="Vraagbaak API", description=DESCRIPTION, version="0.1.0",
                    docs_url="/docs", redoc_url=None)
    app.state.service = service
    upload_limit = int(settings.max_file_mb * MB) * MAX_UPLOAD_FILES + MB
    app.add_middleware(BodyLimit, limits={"/api/upload": upload_limit},
                       default=API_BODY_LIMIT)
    app.add_exception_handler(RequestValidationError, _dutch_validation_error)
    app.include_router(api_router(service, settings))

    ui_auth = None
    if getattr(settings, "ask_requires_token", False):
        def ui_auth(_user: str, password: str) -> bool:
            return auth.admin_token(settings) is not None and auth.token_matches(
                settings, password)

    gr.mount_gradio_app(
        app, build_ui(service, settings), path="/", theme=theme(), css=CSS,
        footer_links=[], run_history=False, show_error=True, auth=ui_auth,
        auth_message="Vraagbaak: log in met het toegangstoken als wachtwoord "
                     "(de gebruikersnaam maakt niet uit).",
        max_file_size=int(settings.max_file_mb * MB) + MB, mcp_server=False,
    )
    log.info("Vraagbaak klaar: %s", index.stats)
    return app
