"""Storing uploaded documents without trusting anything the client sends.

Why: the filename comes from a browser or a script and may be "../../etc/passwd", an
absolute path, carry NUL or control characters, or collide with an existing document.
So the name on disk is *generated*: a random id, the sanitised stem of the client name
(only as a hint for people reading the document list) and an allowed extension.
Why a temp file plus ``os.replace``: a crash, a full disk or a client that disconnects
mid-upload must never leave a half file that the next ingest would index; the temp file
is hidden (leading dot), which ingest skips, and it is removed on any error.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from index.store import fsync_dir

MB = 1024 * 1024
MAX_STEM_CHARS = 60
COPY_BLOCK = 1 << 20
TEMP_PREFIX = ".upload-"
_UNSAFE = re.compile(r"[^\w-]+", re.UNICODE)
_DRIVE = re.compile(r"^[A-Za-z]:")


class UploadRejected(ValueError):
    """An upload that is refused; the message is Dutch and ``status`` an HTTP code."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _shown(name: str) -> str:
    return repr(name[:80]) if len(name) <= 80 else repr(name[:80] + "…")


def allowed_extensions(settings) -> list[str]:
    return sorted({e.lower() for e in settings.extensions})


def safe_name(client_name: object, settings) -> str:
    """A fresh, safe file name for ``client_name``; raises UploadRejected otherwise.

    Paths are refused rather than silently flattened: a client that sends "../x.txt" is
    misbehaving, and saying so is better than guessing what it meant.
    """
    if not isinstance(client_name, str) or not client_name.strip():
        raise UploadRejected("Het bestand heeft geen naam.")
    if "\x00" in client_name or any(unicodedata.category(c) == "Cc" for c in client_name):
        raise UploadRejected("Ongeldige bestandsnaam: de naam bevat stuurtekens.")
    unified = client_name.replace("\\", "/")
    parts = PurePosixPath(unified).parts
    if unified.startswith("/") or _DRIVE.match(unified) or ".." in parts:
        raise UploadRejected(
            f"Ongeldige bestandsnaam {_shown(client_name)}: mappen of paden zijn niet "
            "toegestaan, alleen een bestandsnaam.")
    base = PurePosixPath(unified).name
    stem, dot, ext = base.rpartition(".")
    ext = f".{ext.lower()}" if dot else ""
    if not dot or not stem or ext not in allowed_extensions(settings):
        raise UploadRejected(
            f"Bestandstype {ext or '(geen extensie)'} is niet toegestaan. Toegestaan: "
            + ", ".join(allowed_extensions(settings)) + ".", status=415)
    clean = _UNSAFE.sub("_", unicodedata.normalize("NFKC", stem)).strip("_-")
    clean = clean[:MAX_STEM_CHARS] or "document"
    return f"{uuid.uuid4().hex[:16]}_{clean}{ext}"


def too_large_message(settings) -> str:
    return f"Het bestand is te groot (maximaal {settings.max_file_mb:g} MB)."


def save_upload(source: BinaryIO, client_name: str, dest_dir: Path, settings) -> Path:
    """Copy ``source`` into ``dest_dir`` under a safe name, atomically; return the path.

    Raises UploadRejected (Dutch) for a bad name, a wrong type, an empty or oversized
    file; any error leaves nothing behind in ``dest_dir``.
    """
    name = safe_name(client_name, settings)
    limit = int(settings.max_file_mb * MB)
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / name
    if final.resolve().parent != dest_dir.resolve():  # defence in depth
        raise UploadRejected("Ongeldige bestandsnaam.")
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=dest_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            total = 0
            while block := source.read(COPY_BLOCK):
                total += len(block)
                if total > limit:
                    raise UploadRejected(too_large_message(settings), status=413)
                out.write(block)
            if total == 0:
                raise UploadRejected(f"Het bestand {_shown(client_name)} is leeg.")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(dest_dir)
    return final


def remove_stale_temps(dest_dir: Path, older_than_s: float = 3600) -> int:
    """Temp files a killed process left behind (hidden, so never indexed); tidy them."""
    removed = 0
    cutoff = time.time() - older_than_s
    for path in Path(dest_dir).glob(f"{TEMP_PREFIX}*.part"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


