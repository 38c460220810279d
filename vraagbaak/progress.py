"""Rich progress bars for ingest (documents, then embeddings)."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from index import BuildProgress


class RichBuildProgress(BuildProgress):
    def __init__(self, console):
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.docs = self.emb = None
        self.chunks = 0

    def __enter__(self):
        self.bar.start()
        return self

    def __exit__(self, *exc):
        self.bar.stop()

    def stop(self):
        self.bar.stop()

    def files(self, total):
        self.docs = self.bar.add_task("Documenten", total=total)

    def file_done(self, source, chunks, reused):
        self.chunks += chunks
        self.bar.update(self.docs, advance=1,
                        description=f"Documenten ({self.chunks} fragmenten)")

    def embedding(self, total):
        self.emb = self.bar.add_task("Embedden", total=total)

    def embedded(self, n):
        self.bar.update(self.emb, advance=n)

    def writing(self):
        self.bar.add_task("Index wegschrijven", total=None)
