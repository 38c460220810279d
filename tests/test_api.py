"""REST API and UI rendering, against the real model and the session demo index."""

from __future__ import annotations

import importlib.util
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from conftest import SPORTAAL_QUESTION, SPORTAAL_SOURCE

QUESTIONS = [
    SPORTAAL_QUESTION,
    "hoeveel woningen met de voorfinanciering van efo?",
    "wat is streettriage",
    "waarom moeten de pmd brengcontainers weg",
    "welke minister zou de city deal van het woningabonnement tekenen?",
]


@pytest.fixture(scope="module")
def client(settings, demo_index):
    from vraagbaak.server import create_app

    with TestClient(create_app(settings)) as c:
        yield c


def _stable(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "latency_ms"}


def test_sportaal_question_is_answered_with_its_source(client, qa):
    r = client.post("/api/ask", json={"question": SPORTAAL_QUESTION})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"question", "found", "answer", "citations", "latency_ms"}
    assert body["found"] is True
    assert "2026" in body["answer"]
    assert "[1]" in body["answer"]
    assert any(c["source"] == SPORTAAL_SOURCE for c in body["citations"])
    # The date in the answer must come from a quote that stands in its cited passage.
    cited = [c for c in body["citations"] if c["source"] == SPORTAAL_SOURCE]
    assert all(c["quote"] in c["text"] and c["line_start"] <= c["line_end"] for c in cited)
    assert any("2026" in c["quote"] for c in cited)
    # the same object as a line of `ask --batch`, minus the id
    assert _stable(body) == _stable(qa.answer(SPORTAAL_QUESTION).to_json())


@pytest.mark.parametrize("question", ["", "   ", "\n\t "])
def test_empty_question_is_400_in_dutch(client, question):
    r = client.post("/api/ask", json={"question": question})
    assert r.status_code == 400
    assert "leeg" in r.json()["detail"]


def test_oversized_question_is_413_in_dutch(client, settings):
    r = client.post("/api/ask", json={"question": "sportaal " * settings.max_question_chars})
    assert r.status_code == 413
    assert "te lang" in r.json()["detail"]


def test_punctuation_only_question_is_400(client):
    r = client.post("/api/ask", json={"question": "?!? ..."})
    assert r.status_code == 400
    assert "leestekens" in r.json()["detail"]


def test_malformed_bodies_are_422_in_dutch(client):
    for kwargs in ({"content": b"{niet: json", "headers": {"content-type": "application/json"}},
                   {"json": {"vraag": "wanneer?"}},
                   {"json": {"question": 42}}):
        r = client.post("/api/ask", **kwargs)
        assert r.status_code == 422, kwargs
        assert r.json()["detail"].startswith("Ongeldig verzoek")


def test_huge_body_is_refused_before_it_is_read(client):
    r = client.post("/api/ask", content=b"x" * (600 * 1024),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "te groot" in r.json()["detail"]


def test_server_keeps_answering_after_errors(client):
    for bad in ("", "x" * 5000, "???"):
        assert client.post("/api/ask", json={"question": bad}).status_code in (400, 413)
    r = client.post("/api/ask", json={"question": SPORTAAL_QUESTION})
    assert r.status_code == 200 and r.json()["found"] is True


def test_concurrent_requests_match_sequential_answers(client):
    sequential = {}
    for q in QUESTIONS:
        r = client.post("/api/ask", json={"question": q})
        assert r.status_code == 200
        sequential[q] = _stable(r.json())

    def ask(q):
        t = time.perf_counter()
        r = client.post("/api/ask", json={"question": q})
        return q, r.status_code, r.json(), time.perf_counter() - t

    jobs = [QUESTIONS[i % len(QUESTIONS)] for i in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(ask, jobs))
    assert len(results) == 20
    for q, status, body, _ in results:
        assert status == 200, body
        assert _stable(body) == sequential[q], q
    # every question was really answered, not just echoed: the Sportaal one has its date
    assert all("2026" in b["answer"] for q, _, b, _ in results if q == SPORTAAL_QUESTION)


def test_health_docs_and_ui_are_served(client, demo_index):
    health = client.get("/api/health")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok", "index_loaded": True,
        "documents": len(demo_index.documents), "chunks": len(demo_index.chunks),
        "embedder": demo_index.stats["embedder"],
    }
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    if importlib.util.find_spec("fastapi_offline"):  # then no CDN is needed (offline LANs)
        script = re.search(r'<script src="([^"]+swagger-ui-bundle\.js)"', docs.text)
        assert script and script.group(1).startswith("/"), docs.text
        assert client.get(script.group(1)).status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/api/ask", "/api/health", "/api/feedback", "/api/upload"} <= set(schema["paths"])
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    config = client.get("/config").json()
    assert config["title"] == "Vraagbaak"


def test_documents_endpoint_lists_the_index(client, demo_index):
    r = client.get("/api/documents")
    assert r.status_code == 200
    assert {d["source"] for d in r.json()} == {d.source for d in demo_index.documents}


# --- the UI's render functions: untrusted text is escaped, the quote is marked -----------


def _answer_with_chunk(chunk_text: str, quote: str, found: bool = True):
    from qa import Answer, Citation

    start = chunk_text.index(quote)
    citation = Citation(n=1, source="<img src=x onerror=alert(2)>.txt", section="A > <b>B</b>",
                        line_start=3, line_end=4, page=None, quote=quote,
                        chunk_text=chunk_text, quote_start=start, quote_end=start + len(quote))
    return Answer(question="<script>alert(0)</script>", found=found,
                  text=f"{quote} [1]", citations=[citation])


def test_sources_html_escapes_document_text_and_marks_exactly_the_quote():
    from ui import render_sources

    chunk = "Intro <script>alert(1)</script> & meer.\nDe opdracht loopt eind 2026 af. Slot <b>x</b>"
    quote = "De opdracht loopt eind 2026 af."
    out = render_sources(_answer_with_chunk(chunk, quote))
    assert "<script>" not in out and "<b>" not in out and "<img" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; meer." in out
    assert "&lt;img src=x onerror=alert(2)&gt;.txt" in out
    assert out.count("<mark>") == 1 and out.count("</mark>") == 1
    marked = out.split("<mark>", 1)[1].split("</mark>", 1)[0]
    assert marked == quote
    assert "regels 3–4" in out


def test_quote_that_itself_contains_markup_is_escaped_inside_the_mark():
    from ui import render_sources

    chunk = "Voor. Het budget is <b>€ 5 mln</b> & meer. Na."
    quote = "Het budget is <b>€ 5 mln</b> & meer."
    out = render_sources(_answer_with_chunk(chunk, quote))
    marked = out.split("<mark>", 1)[1].split("</mark>", 1)[0]
    assert marked == "Het budget is &lt;b&gt;€ 5 mln&lt;/b&gt; &amp; meer."


def test_chat_markdown_cannot_carry_html_from_questions_or_answers():
    from vraagbaak.sources_html import md_text, render_answer_markdown

    assert "<" not in md_text("<script>alert(1)</script>")
    assert "&lt;script&gt;" in md_text("<script>alert(1)</script>")
    answer = _answer_with_chunk("x <script>alert(1)</script> y", "<script>alert(1)</script>")
    text = render_answer_markdown(answer)
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\[1\\]" in text  # the marker survives Markdown as literal "[1]"


def test_not_found_shows_closest_passages_escaped(demo_index):
    from qa import NOT_FOUND, Answer
    from ui import render_sources

    # built here rather than via QA: which questions QA abstains on is its own concern
    hits = demo_index.search("hoeveel bedden heeft het mst?", 10)
    answer = Answer(question="<script>x</script>", found=False, text=NOT_FOUND, passages=hits)
    out = render_sources(answer, {h.chunk.source: "<i>titel</i>" for h in hits})
    assert "Niet gevonden in de documenten." in out
    assert "Misschien relevant" in out
    assert out.count('class="vb-source"') == 3
    assert hits[0].chunk.source in out
    assert "<mark>" not in out and "<script>" not in out and "<i>" not in out


def test_question_with_script_is_answered_as_plain_data(client):
    r = client.post("/api/ask", json={"question": "<script>alert(1)</script> sportaal?"})
    assert r.status_code == 200
    assert r.json()["question"] == "<script>alert(1)</script> sportaal?"
