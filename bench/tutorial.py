"""Quality against the tutorial RAG everybody starts from.

The tutorial: LangChain's RecursiveCharacterTextSplitter(1000, 200) over the raw files, the
same embedder (``LangChainEmbeddings``), FAISS similarity search, k=5, and as its "answer"
the first sentence of the top chunk. Same files, same model, same gold set, same scoring
rules (eval/metrics.py), so the difference is what Vraagbaak adds: structure-aware
chunking, hybrid retrieval and the extractive answerer. A hit counts when its line span,
if shorter than 60 lines, covers a gold evidence line (a huge span proves nothing).
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np

from bench.common import WORK, Context, Row, report
from eval.metrics import answer_correct, span_holds

K = 5
MAX_SPAN = 60  # lines
TARGET = 1.2  # Vraagbaak recall@5 / tutorial recall@5


def tutorial_chunks(files) -> list[dict]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200,
                                              add_start_index=True)
    out = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for doc in splitter.create_documents([text]):
            start = text.count("\n", 0, doc.metadata["start_index"]) + 1
            out.append({"text": doc.page_content, "source": path.name, "line_start": start,
                        "line_end": start + doc.page_content.count("\n")})
    return out


def cached_embeddings(lc_embeddings, fingerprint: str, texts: list[str]) -> np.ndarray:
    """Re-runs reuse the vectors: the tutorial's ~550 passages cost minutes on 2 cores."""
    key = hashlib.sha256("\x00".join([fingerprint, *texts]).encode()).hexdigest()[:16]
    path = WORK / f"tutorial-{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = np.asarray(lc_embeddings.embed_documents(texts), dtype=np.float32)
    WORK.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def vector_search(lc_embeddings, chunks, vectors):
    """langchain_community's FAISS store when installed, else the same search in faiss."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from langchain_community.vectorstores import FAISS
    except ImportError:
        import faiss

        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)

        def search(q):
            _, ids = flat.search(np.asarray([lc_embeddings.embed_query(q)], np.float32), K)
            return [chunks[i] for i in ids[0] if i >= 0]

        return "faiss IndexFlatIP (langchain_community not installed)", search
    store = FAISS.from_embeddings(
        [(c["text"], v.tolist()) for c, v in zip(chunks, vectors, strict=True)],
        lc_embeddings, metadatas=[{"i": i} for i in range(len(chunks))])
    return "langchain_community FAISS", lambda q: [
        chunks[d.metadata["i"]] for d in store.similarity_search(q, k=K)]


def first_sentence(text: str) -> str:
    from ingest.chunker import split_sentences

    flat = " ".join(text.split())
    spans = split_sentences(flat)
    return flat[spans[0][0]:spans[0][1]] if spans else flat


def _rank(item, spans) -> int | None:
    """1-based rank of the first hit whose span (under MAX_SPAN lines) holds the evidence."""
    for rank, (source, a, b) in enumerate(spans, 1):
        if b - a + 1 < MAX_SPAN and span_holds(source, a, b, item.source, item.evidence_lines):
            return rank
    return None


def run(ctx: Context) -> None:
    from index.embedder import LangChainEmbeddings
    from qa import QA

    s, emb = ctx.settings, ctx.embedder()
    index = ctx.load_index()
    qa = QA(index, s)
    lc = LangChainEmbeddings(emb)
    files = sorted(p for p in ctx.corpus.iterdir() if p.is_file())
    chunks = tutorial_chunks(files)
    vectors = cached_embeddings(lc, emb.fingerprint, [c["text"] for c in chunks])
    store_kind, search = vector_search(lc, chunks, vectors)

    items = [g for g in ctx.gold() if g.answerable and g.evidence_lines]
    per = []
    for item in items:
        tut_hits = search(item.question)
        vb_hits = index.search(item.question, K)
        answer = qa.answer(item.question)
        tut_answer = first_sentence(tut_hits[0]["text"]) if tut_hits else ""
        tut_rank = _rank(item, [(c["source"], c["line_start"], c["line_end"])
                                for c in tut_hits])
        vb_rank = _rank(item, [(h.chunk.source, h.chunk.line_start, h.chunk.line_end)
                               for h in vb_hits])
        per.append({
            "id": item.id, "tutorial_rank": tut_rank, "vraagbaak_rank": vb_rank,
            "tutorial_hit": tut_rank is not None, "vraagbaak_hit": vb_rank is not None,
            "tutorial_top1": tut_rank == 1, "vraagbaak_top1": vb_rank == 1,
            "tutorial_correct": answer_correct(True, tut_answer, item.must_contain),
            "vraagbaak_correct": answer_correct(answer.found, answer.text, item.must_contain),
            "tutorial_answer": tut_answer, "vraagbaak_answer": answer.text,
        })
    share = {f"{who}_{k}": sum(p[f"{who}_{k}"] for p in per) / len(per)
             for who in ("tutorial", "vraagbaak") for k in ("hit", "top1", "correct")}
    r_ratio = share["vraagbaak_hit"] / max(share["tutorial_hit"], 1e-9)
    a_ratio = share["vraagbaak_correct"] / max(share["tutorial_correct"], 1e-9)
    data = {"questions": len(per), "tutorial_chunks": len(chunks), "store": store_kind,
            "vraagbaak_chunks": len(index.chunks), **share, "recall_ratio": r_ratio,
            "answer_ratio": a_ratio, "per_question": per}
    where = f"{len(per)} answerable questions; tutorial: {len(chunks)} chunks, {store_kind}"
    if r_ratio < TARGET:
        where = f"missed by {1 - r_ratio / TARGET:.0%}; " + where
        if share["tutorial_hit"] * TARGET > 1:
            where += (f"; unreachable: {TARGET}× a tutorial recall of "
                      f"{share['tutorial_hit']:.2f} exceeds 1")
    top1 = share["vraagbaak_top1"] / max(share["tutorial_top1"], 1e-9)
    rows = [
        Row(f"retrieval recall@{K}", f"{share['vraagbaak_hit']:.3f}",
            f"tutorial {share['tutorial_hit']:.3f}", r_ratio, f"≥ {TARGET}",
            r_ratio >= TARGET, where),
        Row("retrieval recall@1", f"{share['vraagbaak_top1']:.3f}",
            f"tutorial {share['tutorial_top1']:.3f}", top1,
            note="evidence in the top hit (same span rule)"),
        Row("answer accuracy", f"{share['vraagbaak_correct']:.3f}",
            f"tutorial 1st sentence {share['tutorial_correct']:.3f}", a_ratio,
            note="contains_answer on a ≤ 400-char answer (eval/metrics.py)"),
    ]
    report("tutorial", ctx, data, rows)
