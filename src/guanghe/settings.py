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
    redis_timeout_ms
        The most one call to Redis may take (connecting included): a boost call that needs it
        is answered 503 with ``Retry-After``; a rate-limit check is let through and counted
        (``guanghe_rate_limit_unavailable_total``).
    creator_ad_share_bp
        The creator's share of profile-page ad revenue, in basis points (default 50 %).
    rate_limit
        Requests one credential (API token or dashboard session) may make, in the ``limits``
        library's notation; counted in Redis when ``redis_url`` is set, else per process.
    anonymous_rate_limit
        The same for requests without a credential, per client address.
    request_timeout_s
        How long a request may run before it is answered 503 (``Retry-After``).
    spark_master
        Where ``--engine spark`` runs: ``local[*]`` (default, in this process's JVM) or a
        cluster's master URL such as ``spark://host:7077``. On a cluster, ``data_dir`` must be
        a path the driver and every executor read.
    broker_url
        RabbitMQ (``amqp://guest:guest@127.0.0.1:5672/``): the notification relay publishes
        deliveries there and ``guanghe notify run`` workers consume them; unset, delivery runs
        in process.
    smtp_host, smtp_port, smtp_sender, smtp_username, smtp_password, smtp_starttls
        The SMTP server notification e-mails go through, and their ``From`` address.
    notify_max_attempts, notify_backoff_s, notify_lease_s
        Attempts before a delivery is a dead letter; the first retry's wait (doubling each
        time); how long a worker holds a claimed delivery before another may take it.
    notify_in_serve
        Whether ``guanghe serve`` runs a delivery worker in its process.
    """

    model_config = SettingsConfigDict(env_prefix="GUANGHE_", extra="ignore")

    data_dir: Path = Field(default=Path(".guanghe"))
    database_url: str = ""
    redis_url: str | None = None
    redis_timeout_ms: int = Field(default=100, ge=1, le=10_000)
    creator_ad_share_bp: int = Field(default=5_000, ge=0, le=10_000)
    rate_limit: str = "500/second;20000/minute"
    anonymous_rate_limit: str = "20/second;300/minute"
    request_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    spark_master: str = Field(default="local[*]", min_length=1)
    broker_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "notices@guanghe.localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    notify_max_attempts: int = Field(default=8, ge=1, le=100)
    notify_backoff_s: float = Field(default=2.0, gt=0, le=3600)
    notify_lease_s: float = Field(default=60.0, gt=0, le=86_400)
    notify_in_serve: bool = True

    @field_validator("redis_url", "broker_url", "smtp_host")
    @classmethod
    def _blank_redis_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("rate_limit", "anonymous_rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit such as '50/second;1000/minute': {exc}") from exc
        return value

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
    def snapshots_dir(self) -> Path:
        """Root of the daily cycle's dated snapshots (see :mod:`guanghe.snapshots`)."""
        return self.data_dir / "snapshots"

    @property
    def scratch_dir(self) -> Path:
        """Intermediate files of the batch pipelines (under ``data_dir``, so that a Spark
        cluster's executors read them where the driver wrote them)."""
        return self.data_dir / "scratch"

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
