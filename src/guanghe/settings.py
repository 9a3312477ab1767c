"""The one settings object: every tunable read from ``GUANGHE_*`` environment variables.

No other module reads the environment. Settings are built on demand (``Settings()``), never at
import time, so ``guanghe --help`` needs no database or data directory.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration of a Guanghe deployment.

    Attributes
    ----------
    data_dir
        Root of everything Guanghe writes to disk: the embedded SQLite store, the Parquet event
        log, snapshots, rejection reports and the synthetic platform's ground truth.
    database_url
        SQLAlchemy URL of the relational store; defaults to ``sqlite:///<data_dir>/guanghe.db``.
    redis_url
        Optional Redis for shared counters; in-process counters are used when unset.
    creator_ad_share_bp
        The creator's share of profile-page ad revenue, in basis points (default 50 %).
    spark_master
        Where ``--engine spark`` runs: ``local[*]`` (default, in this process's JVM) or a
        cluster's master URL such as ``spark://host:7077``. On a cluster, ``data_dir`` must be
        a path the driver and every executor read.
    """

    model_config = SettingsConfigDict(env_prefix="GUANGHE_", extra="ignore")

    data_dir: Path = Field(default=Path(".guanghe"))
    database_url: str = ""
    redis_url: str | None = None
    creator_ad_share_bp: int = Field(default=5_000, ge=0, le=10_000)
    spark_master: str = Field(default="local[*]", min_length=1)

    @field_validator("redis_url")
    @classmethod
    def _blank_redis_is_none(cls, value: str | None) -> str | None:
        return value or None

    @property
    def resolved_database_url(self) -> str:
        """The database URL, with the embedded SQLite default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'guanghe.db').resolve()}"

    @property
    def events_dir(self) -> Path:
        """Root of the date-partitioned Parquet event log."""
        return self.data_dir / "events"

    @property
    def covers_dir(self) -> Path:
        """Where work cover images live."""
        return self.data_dir / "covers"

    @property
    def reports_dir(self) -> Path:
        """Where ingest rejection reports are written."""
        return self.data_dir / "reports"

    @property
    def ground_truth_dir(self) -> Path:
        """The synthetic platform's hidden truth; engines never read it."""
        return self.data_dir / "ground_truth"
