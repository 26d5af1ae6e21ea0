"""One typed settings class; every value comes from the environment with prefix INQUICKER_."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inquicker.db.engine import DbTimeouts

DEV_SECRET = "dev-only-secret-change-me-in-production-0000"  # noqa: S105 - refused outside dev


class Settings(BaseSettings):
    # hide_input_in_errors: a mistyped secret must not be echoed into logs.
    model_config = SettingsConfigDict(
        env_prefix="INQUICKER_", extra="ignore", hide_input_in_errors=True
    )

    env: Literal["dev", "test", "production"] = "dev"
    database_url: str = "sqlite:///./inquicker.db"
    # PostgreSQL streaming replicas (comma-separated URLs) that serve catalog reads; every
    # read that decides a booking, and every write, stays on database_url (db/replicas.py).
    database_replica_urls: str = ""
    # Signs visit tokens (HS256). Must be set to a real secret outside dev/test.
    secret_key: str = DEV_SECRET
    # Honour X-Forwarded-Proto / X-Forwarded-Host when building links (behind a proxy only).
    trust_proxy: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    access_log: bool = True
    # AES-GCM key (base64, 32 bytes) for patient data at rest; unset stores it unencrypted.
    phi_key: str | None = None
    max_holds_per_key: int = Field(default=20, ge=0)
    # Threads serving requests per worker process. Handlers are mostly CPU under the GIL:
    # a few threads keep a core busy; many only add switching (measured in bench/).
    threads: int = Field(default=8, ge=1, le=200)
    # Rendered catalog documents kept per worker, in bytes (least recently used out first);
    # 0 turns the cache off. Availability and booking answers are never cached. 16 MiB:
    # since a miss splices objects rendered once per data version (0.5-2 ms, not 1.4-15),
    # more bytes buy little, and at 64 MiB the cache was most of a worker's peak RSS
    # (269 vs 192 MB over bench/suite.py's memory phase; docs/performance.md, issue 15).
    response_cache_bytes: int = Field(default=16 * 1024 * 1024, ge=0)
    # Kept availability (availability/kept_times.py): offered times per schedule-week and
    # seat-claims version. 4 MiB keeps ~2,700 schedule-days of a 15-minute grid; 8 MiB put
    # a worker's peak over 200 MB in bench/suite.py's memory phase (206.8 MB). 0: off.
    availability_cache_bytes: int = Field(default=4 * 1024 * 1024, ge=0)
    # `inquicker serve` runs the webhook deliverer in a process of its own unless false
    # (then run `inquicker worker` separately, e.g. several of them on PostgreSQL).
    run_worker: bool = True
    # Seconds a receiver has to answer a webhook (SPEC section 11: 10 s); tests shorten it.
    webhook_timeout: float = Field(default=10.0, gt=0, le=10.0)
    # Webhook requests one worker keeps in flight at once.
    webhook_concurrency: int = Field(default=32, ge=1, le=256)
    # A claimed delivery's lease: a killed worker's deliveries are sent again after it.
    webhook_lease_seconds: int = Field(default=60, ge=5, le=60)
    # Bounded waits for the database (SPEC 8b): past them a request is 503 + Retry-After.
    sqlite_busy_timeout_ms: int = Field(default=5_000, ge=0, le=600_000)
    pg_lock_timeout_ms: int = Field(default=5_000, ge=0, le=600_000)
    pg_statement_timeout_ms: int = Field(default=15_000, ge=0, le=3_600_000)
    db_pool_timeout_s: float = Field(default=10.0, gt=0, le=600)
    # Requests per API key ("N/second|minute|hour|day"; "" turns limits off); a key may
    # carry its own (`inquicker keys create --rate`).
    rate_limit: str = "600/minute"
    # Where rate-limit counters live: memory:// (per process) or redis://host:port (shared).
    rate_limit_storage: str = "memory://"
    page_size_default: int = Field(default=10, ge=1, le=100)
    page_size_max: int = Field(default=100, ge=1, le=1000)

    @field_validator("phi_key")
    @classmethod
    def _phi_key_is_a_key(cls, value: str | None) -> str | None:
        if value:
            from inquicker.booking.phi import decode_key

            decode_key(value)  # fail at start-up, not at the first booking
        return value or None

    @field_validator("database_replica_urls")
    @classmethod
    def _replicas_are_postgres(cls, value: str) -> str:
        from inquicker.db.replicas import is_postgres_url, replica_urls

        # Never echo a URL: it may hold a password.
        for position, url in enumerate(replica_urls(value), start=1):
            if not is_postgres_url(url):
                raise ValueError(
                    f"replica {position} is not a PostgreSQL URL "
                    "(replicas are PostgreSQL streaming replicas of the primary)"
                )
        return value

    @field_validator("rate_limit")
    @classmethod
    def _rate_is_a_rate(cls, value: str) -> str:
        if value.strip():
            from inquicker.web.ratelimit import parse_rate

            parse_rate(value.strip())  # fail at start-up, not at the first request
        return value.strip()

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _lease_outlasts_a_batch(self) -> Settings:
        # A batch is two rounds of requests: a lease shorter than that could expire while
        # its deliveries are still being sent, and another worker would send them too.
        if self.webhook_lease_seconds < 2 * self.webhook_timeout + 5:
            raise ValueError(
                "INQUICKER_WEBHOOK_LEASE_SECONDS must be at least 2 x INQUICKER_WEBHOOK_TIMEOUT + 5"
            )
        return self

    @model_validator(mode="after")
    def _replicas_of_postgres(self) -> Settings:
        from inquicker.db.replicas import is_postgres_url

        if self.replica_urls() and not is_postgres_url(self.database_url):
            raise ValueError(
                "INQUICKER_DATABASE_REPLICA_URLS needs a PostgreSQL INQUICKER_DATABASE_URL "
                "(the primary they replicate)"
            )
        return self

    @model_validator(mode="after")
    def _page_sizes_agree(self) -> Settings:
        if self.page_size_default > self.page_size_max:
            raise ValueError("INQUICKER_PAGE_SIZE_DEFAULT may not exceed INQUICKER_PAGE_SIZE_MAX")
        return self

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("INQUICKER_SECRET_KEY must be set in production")
        if self.env == "production" and len(self.secret_key) < 32:
            raise ValueError("INQUICKER_SECRET_KEY must be at least 32 characters")
        return self

    def replica_urls(self) -> tuple[str, ...]:
        from inquicker.db.replicas import replica_urls

        return replica_urls(self.database_replica_urls)

    def db_timeouts(self) -> DbTimeouts:
        return DbTimeouts(
            sqlite_busy_ms=self.sqlite_busy_timeout_ms,
            lock_ms=self.pg_lock_timeout_ms,
            statement_ms=self.pg_statement_timeout_ms,
            pool_seconds=self.db_pool_timeout_s,
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def settings_problem(exc: ValidationError) -> str:
    """One line naming every invalid setting, for operators."""
    parts = []
    for error in exc.errors():
        name = "INQUICKER_" + str(error["loc"][0]).upper() if error["loc"] else "settings"
        parts.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)
