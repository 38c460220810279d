"""A real `vraagbaak serve`, driven by a real browser (Debian's chromium, never downloaded).

This is the test that proves the parts fit: the CLI starts uvicorn, the Gradio page loads
from the same port as the API, typing a question and pressing Enter shows the cited
answer with the source, and 👍 lands in the feedback file.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, SPORTAAL_QUESTION, SPORTAAL_SOURCE

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
START_TIMEOUT_S = 240


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lines(path: Path) -> int:
    return path.read_text(encoding="utf-8").count("\n") if path.exists() else 0


@pytest.fixture(scope="module")
def server(settings, demo_index, tmp_path_factory):
    """`vraagbaak serve` on a free loopback port; yields (url, feedback file, timings)."""
    work = tmp_path_factory.mktemp("serve")
    feedback = work / "feedback.jsonl"
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VRAAGBAAK_FEEDBACK_FILE": str(feedback),
           "VRAAGBAAK_CONFIG": str(work / "none.toml"), "GRADIO_ANALYTICS_ENABLED": "False"}
    log = open(work / "server.log", "wb")  # noqa: SIM115 - closed in the finally below
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vraagbaak.cli", "serve", "--index", str(settings.index_dir),
         "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    timings = {}
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert proc.poll() is None, (work / "server.log").read_text(errors="replace")
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not become healthy in time"
            time.sleep(0.25)
        timings["start_to_health_s"] = time.perf_counter() - t0
        r = httpx.post(f"{url}/api/ask", json={"question": SPORTAAL_QUESTION}, timeout=30)
        assert r.status_code == 200 and r.json()["found"] is True
        timings["start_to_first_answer_s"] = time.perf_counter() - t0
        yield url, feedback, timings
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium missing "
                    "(make browser-deps)")
def test_question_answer_sources_and_feedback_in_a_real_browser(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    url, feedback, timings = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking"])
        try:
            page = browser.new_page(locale="nl-NL", viewport={"width": 1360, "height": 1000})
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url, wait_until="load")  # Gradio keeps a stream open
            expect = sync_api.expect
            expect(page.locator("#vb-header")).to_contain_text("Vraagbaak")
            expect(page.get_by_text("Voorbeeldvragen")).to_be_visible()

            box = page.locator("#vb-question textarea")
            box.fill(SPORTAAL_QUESTION)
            t = time.perf_counter()
            box.press("Enter")
            bot = page.locator("#vb-chat .bot, #vb-chat [data-testid='bot']").last
            expect(bot).to_contain_text("2026", timeout=30_000)
            timings["ui_answer_s"] = time.perf_counter() - t
            expect(bot).to_contain_text("[1]")
            sources = page.locator("#vb-sources")
            expect(sources).to_contain_text(SPORTAAL_SOURCE)
            # the date is highlighted inside its cited passage
            expect(sources.locator("mark", has_text="2026").first).to_be_visible()

            before = _lines(feedback)
            page.locator("#vb-up").click()
            expect(page.locator("#vb-feedback-status")).to_contain_text("Bedankt", timeout=10_000)
            deadline = time.monotonic() + 10
            while _lines(feedback) < before + 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            lines = feedback.read_text(encoding="utf-8").splitlines()
            assert len(lines) == before + 1
            record = json.loads(lines[-1])
            assert record["verdict"] == "up" and record["question"] == SPORTAAL_QUESTION
            assert any(c["source"] == SPORTAAL_SOURCE for c in record["citations"])

            page.screenshot(path=str(ARTIFACTS / "ui.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
    (ARTIFACTS / "timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
    print("timings:", timings)


def test_server_refuses_to_start_without_an_index(tmp_path):
    """IndexProblem from create_app reaches the user as a Dutch error, exit code != 0."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VRAAGBAAK_CONFIG": str(tmp_path / "x")}
    proc = subprocess.run(
        [sys.executable, "-m", "vraagbaak.cli", "serve", "--index", str(tmp_path / "leeg"),
         "--port", str(_free_port())], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=START_TIMEOUT_S)
    assert proc.returncode != 0
    assert "Geen index gevonden" in proc.stderr

