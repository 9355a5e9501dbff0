"""Where notifications go besides the app: settings from the environment, checked at start-up.

A bad setting stops the start with a message naming it (config.SettingsError), as the photo storage
settings do: a webhook URL that is not http(s), an SMTP port that is not one, SMTP without a sender."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from field.config import SettingsError

WEBHOOKS = ("wecom", "dingtalk", "feishu")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class Settings:
    webhooks: dict[str, str] = field(default_factory=dict)   # channel → URL, only those set
    secrets: dict[str, str] = field(default_factory=dict)    # channel → signing secret (DingTalk, Feishu)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    timeout: float = 10.0
    max_attempts: int = 20
    retry_seconds: float = 10.0
    base_url: str = ""
    queue_url: str = ""

    @property
    def email(self) -> bool:
        return bool(self.smtp_host)


def _http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"field: {name} must be an http:// or https:// URL, not {value!r}")
    return value


def _int(env, name: str, default: int, low: int, high: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"field: {name} must be a whole number, not {text!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"field: {name} must be between {low} and {high}, not {value}")
    return value


def _flag(env, name: str, default: bool) -> bool:
    text = env.get(name)
    if text is None:
        return default
    text = text.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise SettingsError(f"field: {name} must be true or false, not {text!r}")


def default_queue_url(database_url: str) -> str:
    """The job queue beside the data: PostgreSQL's own database (in a schema of its own), or a SQLite
    file next to the SQLite database (a second file, so the queue never waits on the app's write lock)."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql").render_as_string(hide_password=False)
    if not url.database or url.database == ":memory:":
        return "memory://"
    path = Path(url.database)
    return f"sqlite:///{path.with_name(path.stem + '-queue.sqlite')}"


def _queue_url(env, database_url: str) -> str:
    value = env.get("NOTIFY_QUEUE_URL", "").strip()
    if not value:
        return default_queue_url(database_url)
    if value == "memory://" or value.startswith(("sqlite:///", "postgresql://", "postgres://")):
        return value
    raise SettingsError("field: NOTIFY_QUEUE_URL must be sqlite:///<file> or postgresql://…, not "
                        f"{value.split('@')[-1]!r}")


def from_environment(database_url: str, env=None) -> Settings:
    env = os.environ if env is None else env
    webhooks = {}
    for channel in WEBHOOKS:
        name = f"NOTIFY_{channel.upper()}_WEBHOOK"
        value = env.get(name, "").strip()
        if value:
            webhooks[channel] = _http_url(name, value)
    secrets = {c: env[f"NOTIFY_{c.upper()}_SECRET"].strip() for c in ("dingtalk", "feishu")
               if env.get(f"NOTIFY_{c.upper()}_SECRET", "").strip()}
    for channel in secrets:
        if channel not in webhooks:
            name = f"NOTIFY_{channel.upper()}"
            raise SettingsError(f"field: {name}_SECRET is set without {name}_WEBHOOK")
    host = env.get("SMTP_HOST", "").strip()
    ssl = _flag(env, "SMTP_SSL", False)
    settings = Settings(
        webhooks=webhooks, secrets=secrets, smtp_host=host,
        smtp_port=_int(env, "SMTP_PORT", 465 if ssl else 587, 1, 65535),
        smtp_user=env.get("SMTP_USER", "").strip(), smtp_password=env.get("SMTP_PASSWORD", ""),
        smtp_from=env.get("SMTP_FROM", "").strip(), smtp_starttls=_flag(env, "SMTP_STARTTLS", not ssl),
        smtp_ssl=ssl, timeout=float(_int(env, "NOTIFY_TIMEOUT", 10, 1, 120)),
        max_attempts=_int(env, "NOTIFY_MAX_ATTEMPTS", 20, 1, 100),
        retry_seconds=float(_int(env, "NOTIFY_RETRY_SECONDS", 10, 1, 3600)),
        base_url=_http_url("NOTIFY_BASE_URL", env["NOTIFY_BASE_URL"].strip()).rstrip("/")
        if env.get("NOTIFY_BASE_URL", "").strip() else "",
        queue_url=_queue_url(env, database_url))
    if host:
        if not settings.smtp_from or "@" not in settings.smtp_from:
            raise SettingsError("field: SMTP_FROM must be the sender's e-mail address when SMTP_HOST is set")
        if settings.smtp_ssl and settings.smtp_starttls:
            raise SettingsError("field: SMTP_SSL and SMTP_STARTTLS exclude each other")
        if bool(settings.smtp_user) != bool(settings.smtp_password):
            raise SettingsError("field: SMTP_USER and SMTP_PASSWORD go together")
    return settings
