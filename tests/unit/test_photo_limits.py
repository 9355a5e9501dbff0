"""PHOTO_MAX_BYTES and PHOTO_MAX_PIXELS are settings: read from the environment, checked at start-up
(a bad value stops the start with its reason), and the request limit follows from them."""
import pytest

from field import config


def settings(monkeypatch, tmp_path, **env):
    for name in ("PHOTO_MAX_BYTES", "PHOTO_MAX_PIXELS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return config.from_environment(tmp_path)


def test_defaults(monkeypatch, tmp_path):
    s = settings(monkeypatch, tmp_path)
    assert s["PHOTO_MAX_BYTES"] == 25 * 1024 * 1024 and s["PHOTO_MAX_PIXELS"] == 60_000_000
    assert s["MAX_CONTENT_LENGTH"] == 30 * 1024 * 1024


def test_values_from_the_environment_and_the_request_limit_follows(monkeypatch, tmp_path):
    s = settings(monkeypatch, tmp_path, PHOTO_MAX_BYTES="41943040", PHOTO_MAX_PIXELS="24_000_000")
    assert s["PHOTO_MAX_BYTES"] == 40 * 1024 * 1024 and s["PHOTO_MAX_PIXELS"] == 24_000_000
    assert s["MAX_CONTENT_LENGTH"] == 45 * 1024 * 1024
    small = settings(monkeypatch, tmp_path, PHOTO_MAX_BYTES="5000000")
    assert small["MAX_CONTENT_LENGTH"] == 25 * 1024 * 1024  # the sales import still fits


@pytest.mark.parametrize("name, value, reason", [
    ("PHOTO_MAX_BYTES", "25MB", "must be a whole number"),
    ("PHOTO_MAX_BYTES", "-1", "must be between"),
    ("PHOTO_MAX_BYTES", "1000", "must be between"),
    ("PHOTO_MAX_BYTES", str(200 * 1024 * 1024), "must be between"),
    ("PHOTO_MAX_PIXELS", "lots", "must be a whole number"),
    ("PHOTO_MAX_PIXELS", "500000000", "must be between"),
    ("PHOTO_MAX_PIXELS", "0", "must be between"),
])
def test_a_bad_value_stops_the_start_with_its_reason(monkeypatch, tmp_path, name, value, reason):
    with pytest.raises(config.SettingsError) as stop:
        settings(monkeypatch, tmp_path, **{name: value})
    assert str(stop.value).startswith(f"field: {name} {reason}")


def test_the_app_uses_the_settings(monkeypatch, tmp_path):
    from field import create_app
    monkeypatch.setenv("PHOTO_MAX_PIXELS", "2000000")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        from field.photos import ingest
        assert ingest.max_pixels() == 2_000_000
