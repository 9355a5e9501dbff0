"""Settings from the environment, with safe defaults for a laptop demo."""
import os
import secrets
from pathlib import Path


class SettingsError(RuntimeError):
    """A setting that cannot work: create_app raises it, so the app does not start. Not SystemExit:
    gunicorn takes a worker's SystemExit for a crash and boots it again, forever; an exception at
    import is "Worker failed to boot", and the server stops."""


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url(instance: Path) -> str:
    url = os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'field.sqlite'}")
    # Heroku-style URLs name the old driver; we ship psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _whole(text: str, name: str = "TRUSTED_PROXIES") -> int:
    try:
        return max(0, int(text))
    except ValueError:
        raise SettingsError(f"field: {name} must be a whole number, not {text!r}") from None


# Photo limits (field/photos/ingest.py): defaults, and the range a setting must fall in.
PHOTO_MAX_BYTES = 25 * 1024 * 1024
PHOTO_MAX_PIXELS = 60_000_000
PHOTO_BYTES_RANGE = (100 * 1024, 64 * 1024 * 1024)
PHOTO_PIXELS_RANGE = (1_000_000, 89_000_000)  # Pillow refuses more than ~89 MP as a decompression bomb
# A request carries the photo and its form fields, or another upload (the sales import takes 20 MiB).
FORM_OVERHEAD = 5 * 1024 * 1024
OTHER_UPLOAD_BYTES = 20 * 1024 * 1024


def _bounded(name: str, default: int, low: int, high: int) -> int:
    """A whole number setting within [low, high]; anything else stops the start with the reason."""
    text = os.environ.get(name, "").strip().replace("_", "")
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"field: {name} must be a whole number, not {text!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"field: {name} must be between {low} and {high}, not {value}")
    return value


def _photo_limits() -> dict:
    max_bytes = _bounded("PHOTO_MAX_BYTES", PHOTO_MAX_BYTES, *PHOTO_BYTES_RANGE)
    return {
        "PHOTO_MAX_BYTES": max_bytes,
        "PHOTO_MAX_PIXELS": _bounded("PHOTO_MAX_PIXELS", PHOTO_MAX_PIXELS, *PHOTO_PIXELS_RANGE),
        # The request limit follows: the largest file a form takes, plus the form around it.
        "MAX_CONTENT_LENGTH": max(max_bytes, OTHER_UPLOAD_BYTES) + FORM_OVERHEAD,
    }


def from_environment(instance: Path) -> dict:
    instance.mkdir(parents=True, exist_ok=True)
    production = os.environ.get("FIELD_ENV", "development") == "production"
    return {
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance),
        # A connection the database dropped (a restart, a failover, an idle timeout) is found and
        # replaced when taken from the pool, so it costs no request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(instance / "uploads")),
        "DEFAULT_TIMEZONE": os.environ.get("DEFAULT_TIMEZONE", "Asia/Shanghai"),
        # Activities whose budget is above this (yuan) need a second approver.
        "ACTIVITY_SECOND_APPROVAL_ABOVE": os.environ.get("ACTIVITY_SECOND_APPROVAL_ABOVE", "50000.00"),
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "zh_CN"),
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ["zh_CN", "en"],
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "20 per 10 minutes"),
        # How many proxies (nginx, a load balancer) sit in front and set X-Forwarded-For/-Proto/-Host.
        # 0: forwarded headers are ignored, the client is the connection's peer.
        "TRUSTED_PROXIES": _whole(os.environ.get("TRUSTED_PROXIES", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # "Keep me signed in" on the sign-in page: for how many days (0: not offered).
        "REMEMBER_ME_DAYS": _whole(os.environ.get("REMEMBER_ME_DAYS", "30"), "REMEMBER_ME_DAYS"),
        **_photo_limits(),
        # Map backgrounds (field/geo.py, tile_source): none | osm | amap | tencent | baidu | a URL template.
        "MAP_TILES": os.environ.get("MAP_TILES", "none"),
        "MAP_TILES_DATUM": os.environ.get("MAP_TILES_DATUM", ""),
        "MAP_TILES_ATTRIBUTION": os.environ.get("MAP_TILES_ATTRIBUTION", ""),
        "MAP_TILES_SUBDOMAINS": os.environ.get("MAP_TILES_SUBDOMAINS", ""),
        "WTF_CSRF_TIME_LIMIT": None,
        "PAGE_SIZE": 50,
        # The working day (field/workday): expected start and end, and when a day nobody ended is closed (local HH:MM).
        "WORKDAY_START": os.environ.get("WORKDAY_START", "09:00"),
        "WORKDAY_END": os.environ.get("WORKDAY_END", "17:30"),
        "WORKDAY_CLOSE_AT": os.environ.get("WORKDAY_CLOSE_AT", "23:00"),
        # Travel claims: yuan per km per vehicle (car, motorbike, ebike); a vehicle left out is not offered.
        "WORKDAY_MILEAGE_RATES": os.environ.get("WORKDAY_MILEAGE_RATES", "car=0.80,motorbike=0.40,ebike=0.20"),
    }
