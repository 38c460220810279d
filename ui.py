"""The Vraagbaak web UI (Gradio Blocks): chat with cited answers, sources, feedback, uploads.

Why it is thin: everything that decides *what* is shown lives in pure, tested functions
(vraagbaak/sources_html.py) and everything that changes state in the shared service
(vraagbaak/service.py), so the REST API and this UI cannot drift apart. All text a user
sees is Dutch; document and user text is escaped before it reaches the page.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import gradio as gr

from qa import QuestionError
from vraagbaak.auth import UI_WRONG, admin_token, token_matches
from vraagbaak.feedback import FeedbackError
from vraagbaak.service import CallbackProgress
from vraagbaak.sources_html import (
    md_text,
    render_answer_markdown,
    render_documents,
    render_sources,
)

__all__ = ["CSS", "EXAMPLES", "build_ui", "render_sources", "theme"]

EXAMPLES = [
    "wanneer loopt de Sportaal-opdracht af?",
    "hoeveel woningen worden verduurzaamd met de voorfinanciering van EFO?",
    "wat is streettriage?",
    "waarom moeten de pmd-brengcontainers weg?",
]

CSS = """
.gradio-container {max-width: 1280px !important; margin: 0 auto;}
#vb-header h1 {margin: 0; font-size: 1.6rem;}
#vb-header p {margin: .2rem 0 0; color: var(--body-text-color-subdued);}
.vb-sources h3 {margin: .2rem 0 .6rem; font-size: 1rem;}
.vb-source {border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .6rem .8rem; margin-bottom: .7rem; background: var(--background-fill-secondary);}
.vb-head {font-weight: 600; word-break: break-all;}
.vb-n {color: var(--color-accent); margin-right: .2rem;}
.vb-title {font-size: .85rem; font-style: italic;}
.vb-meta {font-size: .82rem; color: var(--body-text-color-subdued); margin: .15rem 0 .45rem;}
.vb-text {position: relative; white-space: pre-wrap; font-size: .88rem; line-height: 1.45;
  max-height: 15rem; overflow-y: auto;}
.vb-text mark {background: #fde68a; color: #1f2937; padding: 0 .1em; border-radius: 2px;}
.vb-notfound {font-weight: 600; padding: .5rem .8rem; border-left: 4px solid #f59e0b;
  background: #fffbeb; color: #78350f; margin-bottom: .7rem; border-radius: 4px;}
.vb-empty {color: var(--body-text-color-subdued); padding: 1rem .2rem;}
.vb-docs {width: 100%; border-collapse: collapse; font-size: .9rem; border: none !important;}
.vb-docs th, .vb-docs td {text-align: left; padding: .45rem .6rem;
  border: none !important; border-bottom: 1px solid var(--border-color-primary) !important;
  vertical-align: top;}
.vb-docs th {font-weight: 600; background: var(--background-fill-secondary);}
.vb-docs .vb-num {text-align: right;}
.vb-docs .vb-doc {font-family: var(--font-mono); font-size: .85rem; word-break: break-all;}
#vb-feedback {align-items: center; gap: .5rem;}
#vb-fb-label {flex: 0 0 auto !important; min-width: max-content !important;}
"""

# Long chunks scroll inside their card: bring the marked quote into view after each answer.
SCROLL_TO_QUOTE = """
watch('value', () => {
  element.querySelectorAll('.vb-text').forEach((box) => {
    const mark = box.querySelector('mark');
    if (mark) box.scrollTop = Math.max(0, mark.offsetTop - 24);
  });
});
"""


def theme() -> gr.themes.Base:
    # system fonts: the service runs offline, a Google Fonts link would only stall pages
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate",
                          font=["system-ui", "Segoe UI", "Roboto", "sans-serif"],
                          font_mono=["ui-monospace", "monospace"])


def _titles(service) -> dict[str, str]:
    index = service.index
    cached = getattr(service, "_ui_titles", None)
    if cached is None or cached[0] is not index:
        cached = (index, {d.source: d.title for d in index.documents})
        service._ui_titles = cached
    return cached[1]


def _documents(service) -> tuple[str, str]:
    index = service.index
    summary = (f"**{len(index.documents)} documenten** in de index, {len(index.chunks)} "
               f"fragmenten (embedder: {md_text(str(index.stats.get('embedder')))}).")
    return summary, render_documents(index.documents)


def _upload_message(result) -> str:
    lines = []
    if result.error:
        lines.append(f"**Niet gelukt.** {md_text(result.error)}")
    if result.added:
        lines.append(f"**{len(result.added)} document(en) toegevoegd** en doorzoekbaar:")
        lines += [f"- {md_text(s)}" for s in result.added]
    if result.rejected:
        lines.append("**Niet toegevoegd:**")
        lines += [f"- {md_text(name)}: {md_text(why)}" for name, why, _ in result.rejected]
    return "\n".join(lines) or "Er is niets toegevoegd."


def build_ui(qa_provider, settings) -> gr.Blocks:
    """``qa_provider`` is the shared ``vraagbaak.service.Service`` (answers, documents,
    feedback, uploads)."""
    service = qa_provider

    def ask(question, history):
        history = list(history or [])
        if not (question or "").strip():
            return question, history, gr.update(), gr.update(), gr.update(), gr.update()
        shown = question if len(question) <= 500 else question[:500] + " …"
        history.append({"role": "user", "content": md_text(shown)})
        try:
            answer = service.ask(question)
        except QuestionError as exc:
            history.append({"role": "assistant", "content": md_text(str(exc))})
            return "", history, render_sources(None), None, gr.update(visible=False), ""
        history.append({"role": "assistant", "content": render_answer_markdown(answer)})
        return ("", history, render_sources(answer, _titles(service)), answer.to_json(),
                gr.update(visible=True), "")

    def feedback(verdict, last, comment):
        if not last:
            return "Stel eerst een vraag; daarna kunt u het antwoord beoordelen.", comment
        try:
            service.feedback.add(last["question"], last["answer"], last["citations"],
                                 verdict, comment)
        except FeedbackError as exc:
            return md_text(str(exc)), comment
        except OSError:
            return "De feedback kon niet worden opgeslagen. Probeer het later opnieuw.", comment
        thumb = "👍" if verdict == "up" else "👎"
        return f"Bedankt! Uw {thumb} is opgeslagen.", ""

    def upload(paths, token, progress=gr.Progress()):
        if not token_matches(settings, token):
            return f"**{UI_WRONG}**", *_documents(service), gr.update()
        if not paths:
            return "Kies eerst een of meer bestanden.", *_documents(service), gr.update()
        with contextlib.ExitStack() as stack:
            files = [(Path(p).name, stack.enter_context(open(p, "rb"))) for p in paths]
            result = service.add_documents(
                files, CallbackProgress(lambda f, d: progress(f, desc=d)))
        return _upload_message(result), *_documents(service), None

    with gr.Blocks(title="Vraagbaak", analytics_enabled=False) as demo:
        gr.HTML("<h1>Vraagbaak</h1><p>Stel een vraag over de beleidsdocumenten van de "
                "gemeente. Elk antwoord noemt de exacte bron: document, sectie en regels.</p>",
                elem_id="vb-header", js_on_load=None)
        last = gr.State(None)
        with gr.Tabs():
            with gr.Tab("Vragen", id="vragen"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=380):
                    chat = gr.Chatbot(
                        label="Gesprek", show_label=False, height=440,
                        feedback_options=None, buttons=["copy"], elem_id="vb-chat",
                        placeholder="Stel hieronder een vraag of kies een voorbeeld.")
                    with gr.Row():
                        box = gr.Textbox(
                            show_label=False, scale=6, lines=1, max_lines=4,
                            autofocus=True, elem_id="vb-question",
                            placeholder="Typ uw vraag en druk op Enter")
                        send = gr.Button("Vraag", variant="primary", scale=1,
                                         min_width=90)
                    gr.Examples([[q] for q in EXAMPLES], inputs=box,
                                label="Voorbeeldvragen")
                    with gr.Row(visible=False, elem_id="vb-feedback") as fb_row:
                        gr.Markdown("**Was dit antwoord nuttig?**", elem_id="vb-fb-label")
                        up = gr.Button("👍 Ja", size="sm", scale=0, min_width=80,
                                       elem_id="vb-up")
                        down = gr.Button("👎 Nee", size="sm", scale=0, min_width=80,
                                         elem_id="vb-down")
                        comment = gr.Textbox(show_label=False, scale=3, lines=1,
                                             container=False,
                                             placeholder="Toelichting (optioneel)")
                    fb_status = gr.Markdown(elem_id="vb-feedback-status")
                with gr.Column(scale=2, min_width=320):
                    sources = gr.HTML(render_sources(None), elem_id="vb-sources",
                                      js_on_load=SCROLL_TO_QUOTE)
            with gr.Tab("Documenten", id="documenten"):
                summary = gr.Markdown()
                table = gr.HTML(elem_id="vb-documents", js_on_load=None)
                uploader = _upload_section(service, settings)

        outputs = [box, chat, sources, last, fb_row, fb_status]
        for event in (box.submit, send.click):
            event(ask, [box, chat], outputs, concurrency_limit=8, api_visibility="private")
        up.click(lambda la, c: feedback("up", la, c), [last, comment], [fb_status, comment],
                 api_visibility="private")
        down.click(lambda la, c: feedback("down", la, c), [last, comment],
                   [fb_status, comment], api_visibility="private")
        demo.load(lambda: _documents(service), None, [summary, table],
                  api_visibility="private")
        if uploader is not None:
            files, token, add, status = uploader
            add.click(upload, [files, token], [status, summary, table, files],
                      concurrency_limit=1, api_visibility="private")
    return demo


def _upload_section(service, settings):
    """The upload form, or only the reason why uploading is not possible."""
    gr.Markdown("### Documenten toevoegen")
    reason = service.upload_unavailable()
    if reason:
        gr.Markdown(md_text(reason))
        return None
    exts = sorted({e.lower() for e in settings.extensions})
    gr.Markdown(f"Toegestaan: {md_text(', '.join(exts))}; maximaal "
                f"{settings.max_file_mb:g} MB per bestand. Nieuwe documenten zijn na het "
                "inlezen direct doorzoekbaar.")
    files = gr.File(file_count="multiple", file_types=exts, label="Bestanden",
                    elem_id="vb-upload")
    token = gr.Textbox(label="Beheerderstoken", type="password",
                       visible=admin_token(settings) is not None)
    add = gr.Button("Toevoegen aan de index", variant="primary")
    status = gr.Markdown()
    return files, token, add, status
