"""Settings from `JOBIMPORT_*` environment variables, loaded once by the entry point, passed on."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from jobimport.errors import SettingsError
from jobimport.feed_policy import parse_schedule

ENV_PREFIX = "JOBIMPORT_"

_JOBICY = "https://jobicy.com/?feed=job_feed"
DEFAULT_FEEDS: tuple[str, ...] = (
    _JOBICY,
    f"{_JOBICY}&job_categories=smm&job_types=full-time",
    f"{_JOBICY}&job_categories=seller&job_types=full-time&search_region=france",
    f"{_JOBICY}&job_categories=design-multimedia",
    f"{_JOBICY}&job_categories=data-science",
    f"{_JOBICY}&job_categories=copywriting",
    f"{_JOBICY}&job_categories=business",
    f"{_JOBICY}&job_categories=management",
    "https://www.higheredjobs.com/rss/articleFeed.cfm",
)

# A host name or IPv4 address, `*.` and a name, `*`, or an IPv6 address in brackets.
_HOST_PATTERN = re.compile(r"^(\*|(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?|\[[0-9a-f:.]+\])$")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
MIB = 1024 * 1024


class Settings(BaseSettings):
    """Every setting of jobimport. Field name `x` is read from `JOBIMPORT_X`; docs/configuration.md
    lists them all (a test keeps the two in sync)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    database_url: str = Field(
        "sqlite:///var/jobimport.db",
        description="Store: `sqlite:///path` (embedded default) or `mongodb://…`/`mongodb+srv://…`.",
    )
    # NoDecode: our validator parses the JSON, so a bad value gets our message naming the setting.
    feeds: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_FEEDS, description="Feed URLs to import, as a JSON array of strings."
    )
    batch_size: int = Field(100, ge=1, le=10_000, description="Items per staged batch.")
    max_concurrency: int = Field(
        4, ge=1, le=256, description="Tasks (feeds or batches) processed at once."
    )
    max_per_host: int = Field(
        2, ge=1, le=256, description="Fetches at once against one feed host, across workers."
    )
    fetch_connect_timeout_s: float = Field(
        10.0, gt=0, description="Seconds to resolve and connect to a feed's server."
    )
    fetch_read_timeout_s: float = Field(
        30.0, gt=0, description="Seconds allowed between two chunks of a download."
    )
    fetch_timeout_s: float = Field(240.0, gt=0, description="Seconds for a whole download.")
    max_feed_bytes: int = Field(
        256 * MIB, ge=1024, description="Cap on a feed's decoded body, counted after decompression."
    )
    user_agent: str = Field(
        "jobimport/0.1 (+https://github.com/jobimport/jobimport)",
        min_length=1,
        description="User-Agent header sent to feeds.",
    )
    allow_private_addresses: bool = Field(
        False, description="Allow feeds on private, loopback or link-local addresses."
    )
    log_level: LogLevel = Field("INFO", description="Log level, case-insensitive.")
    log_format: Literal["auto", "console", "json"] = Field(
        "auto", description="`auto`: console on a terminal, JSON otherwise."
    )
    redis_url: str | None = Field(
        None, description="arq queue on Redis (`redis://`, `rediss://`); unset = in-process queue."
    )
    queue_name: str = Field("jobimport:queue", min_length=1, description="arq queue name.")
    redis_connect_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="Seconds start-up waits for Redis to answer; then it exits 1 naming the"
        " problem.",
    )
    redis_timeout_s: float = Field(
        2.0,
        gt=0,
        le=60,
        description="Seconds a Redis call made while serving a request may take; then the endpoint"
        " answers 503 `queue_unavailable`.",
    )
    job_timeout_s: float = Field(300.0, gt=0, description="Upper bound of every task.")
    max_tries: int = Field(3, ge=1, le=20, description="Tries of a task on transient errors.")
    retry_base_delay_s: float = Field(
        2.0, ge=0, description="First retry delay; doubles with every further try."
    )
    schedule: str = Field("1h", description="Default feed schedule: `1h`-style or cron.")
    tick_interval_s: int = Field(
        60, ge=1, le=60, description="Scheduler tick period (seconds; 60 in production)."
    )
    reconcile_after_s: float = Field(
        900.0, gt=0, description="A run with no progress for this long is reconciled."
    )
    reconcile_max_requeues: int = Field(
        3, ge=1, description="Re-enqueues of a stuck run before its lost items fail."
    )

    store_check_interval_s: float = Field(
        3600.0,
        ge=0,
        description="Seconds between background integrity checks of a SQLite store"
        " (`PRAGMA quick_check`, also once at start); 0 disables them.",
    )

    expire_after_runs: int = Field(
        3,
        ge=1,
        le=1000,
        description="Whole-document runs of every feed that listed a job, without it, that"
        " expire it.",
    )
    retention_days: int = Field(
        90,
        ge=0,
        le=36500,
        description="Import logs, batch results and staged data older than this are pruned daily"
        " (jobs stay); 0 keeps them forever.",
    )
    alert_webhook_url: SecretStr | None = Field(
        None,
        description="http(s) URL that gets a JSON POST when a feed starts failing and recovers;"
        " unset = no alerts.",
    )
    alert_after_failures: int = Field(
        3, ge=1, le=1000, description="Consecutive failed runs of a feed that raise an alert."
    )
    public_url: str | None = Field(
        None,
        description="Base URL of the admin page, for links in alerts; unset = http://HOST:PORT.",
    )

    role: Literal["all", "web", "worker"] = Field(
        "all", description="Default role of `serve` and `healthcheck`."
    )
    host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="Address `serve` listens on; a non-loopback one needs ADMIN_TOKEN.",
    )
    port: int = Field(8000, ge=1, le=65535, description="Port `serve` listens on.")
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token every non-GET endpoint requires (16+ characters); unset = none.",
    )
    # NoDecode: comma-separated, not JSON (our validator splits it).
    allowed_hosts: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        None,
        description="Host names the HTTP service answers besides loopback ones, comma-separated"
        " (`*.example.com`: its subdomains; `*`: any); unset = loopback only without"
        " ADMIN_TOKEN, any with it.",
    )
    read_token_required: bool = Field(
        False, description="Read endpoints need the token (or the session cookie) too."
    )
    events_replay: int = Field(
        1000,
        ge=10,
        le=1_000_000,
        description="Events kept for Last-Event-ID resumes (hub buffer, Redis stream length).",
    )
    sse_keepalive_s: float = Field(
        15.0, gt=0, le=300, description="Seconds between SSE keep-alive comments."
    )
    sse_stream_buffer_bytes: int = Field(
        MIB,
        ge=16 * 1024,
        le=64 * MIB,
        description="Bytes an SSE stream may have waiting to be sent; past it the stream closes"
        " (the client resumes with Last-Event-ID).",
    )
    header_timeout_s: float = Field(
        30.0,
        gt=0,
        le=60,
        description="Seconds a connection has to send a request's headers, from its connection"
        " or the request's first byte.",
    )
    keepalive_timeout_s: float = Field(
        75.0, gt=0, le=3600, description="Seconds an idle keep-alive connection stays open."
    )
    max_connections: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="Open HTTP connections beyond which new ones get a 503 and are closed;"
        " unset = min(10000, descriptor limit - 256).",
    )
    log_repeat_window_s: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="Identical warnings and errors within this window log once, then as a"
        " count; 0 logs every one.",
    )

    @field_validator("feeds", mode="before")
    @classmethod
    def _feeds_from_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"must be a JSON array of URLs ({exc.msg})") from exc
        return value

    @field_validator("feeds")
    @classmethod
    def _feeds_are_http_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return tuple(dict.fromkeys(value))  # keep order, drop repeats

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()] or None
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        names = tuple(dict.fromkeys(name.strip().lower().rstrip(".") for name in value))
        for name in names:
            if not _HOST_PATTERN.match(name):
                raise ValueError(
                    f"{name!r} is not a host name, `*.name` or `*` (no scheme, port or path)"
                )
        return names or None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_store(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "mongodb://", "mongodb+srv://")):
            raise ValueError("must start with sqlite:///, mongodb:// or mongodb+srv://")
        return value

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("alert_webhook_url", mode="before")
    @classmethod
    def _empty_webhook_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook_is_http(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        if isinstance(value, str):
            if not value.startswith(("http://", "https://")):
                raise ValueError("must be an http(s) URL")
            return value.rstrip("/")
        return value

    @property
    def base_url(self) -> str:
        """Where people reach this service: PUBLIC_URL, or http://HOST:PORT."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @field_validator("max_connections", mode="before")
    @classmethod
    def _empty_cap_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("admin_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("admin_token")
    @classmethod
    def _strong_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError(
                "must be at least 16 characters; make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return value

    @model_validator(mode="after")
    def _timeouts_fit(self) -> Settings:
        if self.fetch_read_timeout_s > self.fetch_timeout_s:
            raise ValueError(
                "JOBIMPORT_FETCH_READ_TIMEOUT_S must not exceed JOBIMPORT_FETCH_TIMEOUT_S"
            )
        # The fetch task also parses and stages; leave it room inside the task's time limit.
        if self.fetch_timeout_s >= self.job_timeout_s:
            raise ValueError(
                "JOBIMPORT_FETCH_TIMEOUT_S must be shorter than JOBIMPORT_JOB_TIMEOUT_S, "
                "which bounds the whole fetch task"
            )
        if self.read_token_required and self.admin_token is None:
            raise ValueError("JOBIMPORT_READ_TOKEN_REQUIRED needs JOBIMPORT_ADMIN_TOKEN to be set")
        return self

    def masked(self) -> dict[str, Any]:
        """Effective settings as env names → values, with passwords in URLs and secrets masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif isinstance(value, str) and name.endswith("_url"):
                value = mask_url_password(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[ENV_PREFIX + name.upper()] = value
        return out


def mask_url_password(url: str) -> str:
    """`scheme://user:secret@host` → `scheme://user:****@host`; other URLs unchanged."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user, colon, _password = credentials.partition(":")
    return f"{scheme}://{user}{':****' if colon else ''}@{host}"


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (plus overrides); a bad value raises SettingsError naming it."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field_name = ".".join(str(p) for p in error["loc"] if isinstance(p, str))
            env_name = ENV_PREFIX + field_name.upper() if field_name else "settings"
            problems.append(f"{env_name}: {error['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
