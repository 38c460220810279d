"""The on-disk index: generations behind a CURRENT pointer.

Like LevelDB's CURRENT file: a build writes a complete new generation directory beside
the old one, fsyncs it, and only then atomically replaces ``CURRENT``. A reader follows
the pointer, so a kill at any moment leaves the previous generation loadable; the old
vectors are deleted only after the new ones are committed (the Open WebUI failure mode
is impossible by construction). Every file's sha256 sits in the manifest so a truncated
or altered file is detected instead of answered from.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

FORMAT_VERSION = 2  # 2: per-sentence plain vectors beside the late-chunked ones
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
KEEP_GENERATIONS = 2  # the committed one and its predecessor


class IndexProblem(RuntimeError):
    """An index that cannot be used; the message is Dutch and names the fix."""


def rebuild_hint(idx_dir: Path) -> str:
    return f"Bouw de index opnieuw op met: vraagbaak ingest <map> --index {idx_dir} --rebuild"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            with open(Path(dirpath) / name, "rb+") as f:
                os.fsync(f.fileno())
        fsync_dir(Path(dirpath))


def current_generation(idx_dir: Path) -> Path | None:
    pointer = idx_dir / CURRENT
    if not pointer.is_file():
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):  # a damaged pointer is "no generation"
        return None
    gen = idx_dir / name
    # only a committed generation beside CURRENT, never "..", an absolute path or a .tmp
    valid = name.startswith("gen-") and "/" not in name and not name.endswith(".tmp")
    return gen if valid and gen.is_dir() else None


def new_generation(idx_dir: Path) -> Path:
    idx_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    gen = idx_dir / f"gen-{stamp}-{time.time_ns() % 10**9:09d}.tmp"
    gen.mkdir()
    return gen


def commit_generation(idx_dir: Path, tmp_gen: Path, manifest: dict) -> Path:
    """Checksum, fsync and publish ``tmp_gen``; then drop generations beyond the last two."""
    previous = current_generation(idx_dir)
    files = {}
    for path in sorted(p for p in tmp_gen.rglob("*") if p.is_file()):
        files[path.relative_to(tmp_gen).as_posix()] = sha256_file(path)
    manifest = {**manifest, "format_version": FORMAT_VERSION, "files": files}
    (tmp_gen / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    _fsync_tree(tmp_gen)
    final = tmp_gen.with_name(tmp_gen.name.removesuffix(".tmp"))
    os.replace(tmp_gen, final)
    pointer_tmp = idx_dir / (CURRENT + ".tmp")
    with open(pointer_tmp, "w", encoding="utf-8") as f:
        f.write(final.name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer_tmp, idx_dir / CURRENT)
    fsync_dir(idx_dir)
    _collect_garbage(idx_dir, keep={final, previous})
    return final


def _collect_garbage(idx_dir: Path, keep: set[Path | None]) -> None:
    """Keep the new generation and the one CURRENT named before it (a reader may still be
    loading that one); everything else goes: older generations, ``.tmp`` directories and
    finished generations that CURRENT never named, both left by a killed build. Which
    generation is the predecessor comes from the pointer, not from sorting names: an
    orphan of a killed build is newer than the real predecessor."""
    for path in sorted(idx_dir.glob("gen-*")):
        if path.is_dir() and path not in keep:
            shutil.rmtree(path, ignore_errors=True)


def _well_formed(manifest: object) -> bool:
    """The keys readers index into; valid JSON of another shape is damage, not a crash."""
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        return False
    if manifest["format_version"] != FORMAT_VERSION:
        return True  # reported as a version mismatch below
    embedder = manifest.get("embedder")
    return (isinstance(manifest.get("files"), dict) and bool(manifest["files"])
            and isinstance(manifest.get("chunking"), dict) and isinstance(embedder, dict)
            and isinstance(embedder.get("name"), str)
            and isinstance(embedder.get("fingerprint"), str))


def read_manifest(idx_dir: Path, verify: bool = True) -> tuple[Path, dict]:
    """The committed generation and its manifest; raises IndexProblem in Dutch."""
    gen = current_generation(idx_dir)
    if gen is None and (idx_dir / CURRENT).exists():
        raise IndexProblem(
            f"De index in {idx_dir} is beschadigd: {CURRENT} verwijst niet naar een "
            "bestaande generatie. " + rebuild_hint(idx_dir)
        )
    if gen is None:
        raise IndexProblem(
            f"Geen index gevonden in {idx_dir}. Maak er een met: "
            f"vraagbaak ingest <map> --index {idx_dir}"
        )
    try:
        manifest = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexProblem(
            f"De index in {idx_dir} is beschadigd (manifest onleesbaar: {exc}). "
            + rebuild_hint(idx_dir)
        ) from exc
    if not _well_formed(manifest):
        raise IndexProblem(
            f"De index in {idx_dir} is beschadigd (manifest onvolledig). "
            + rebuild_hint(idx_dir)
        )
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexProblem(
            f"De index in {idx_dir} heeft formaatversie {manifest.get('format_version')}, "
            f"deze Vraagbaak leest versie {FORMAT_VERSION}. " + rebuild_hint(idx_dir)
        )
    if verify:
        for name, digest in manifest.get("files", {}).items():
            path = gen / name
            if not path.is_file() or sha256_file(path) != digest:
                raise IndexProblem(
                    f"De index in {idx_dir} is beschadigd: {name} ontbreekt of is gewijzigd "
                    "(controlesom klopt niet). " + rebuild_hint(idx_dir)
                )
    return gen, manifest
