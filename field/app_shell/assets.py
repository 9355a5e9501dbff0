"""Static files under versioned URLs, cached for a year, and every answer compressed.

At start-up each file of static/ is copied into instance/static/ twice: under its own name and under
a name carrying a hash of its content (css/app.css → css/app.0123456789ab.css), each with Brotli and
gzip variants beside it (WhiteNoise's Compressor). WhiteNoise serves that folder: a versioned URL
never changes content, so it is `public, max-age=31536000, immutable`; an unversioned one is
`no-cache` (revalidated by its ETag). url_for('static', ...) gives the versioned URL. Pages and
other dynamic answers are compressed by Flask-Compress. In debug mode static files are served from
static/ as they are edited, under their own names.

Like Django's collectstatic + ManifestStaticFilesStorage, which Flask lacks; the hashing is ours,
the serving, caching headers, content negotiation and compression are the libraries'."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from flask import Flask
from flask_compress import Compress
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

HASH_LENGTH = 12
VERSIONED = re.compile(r"\.[0-9a-f]{%d}\.[A-Za-z0-9]+$" % HASH_LENGTH)
"""A versioned file name: name.<hash>.ext."""
FOREVER = "public, max-age=31536000, immutable"
SKIPPED = ("sw.js",)
"""Served by a route of their own (at the site root), never under /static/."""


def versioned_name(name: str, content: bytes) -> str:
    """css/app.css → css/app.<first 12 hex digits of its SHA-256>.css"""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{digest}.{ext}" if dot and "/" not in ext else f"{name}.{digest}"


def _write(path: Path, data: bytes) -> None:
    """Write atomically: another worker starting at the same time may be serving the file already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def _publish(path: Path, data: bytes, compressor: Compressor) -> None:
    """The file and, where compressing pays, its .br and .gz variants (WhiteNoise picks one by Accept-Encoding)."""
    if path.exists() and path.read_bytes() == data:
        return
    if compressor.should_compress(path.name):
        variants = {".br": compressor.compress_brotli(data) if compressor.use_brotli else None,
                    ".gz": compressor.compress_gzip(data) if compressor.use_gzip else None}
        for suffix, packed in variants.items():
            target = path.with_name(path.name + suffix)
            if packed is not None and compressor.is_compressed_effectively(suffix, str(path), len(data), packed):
                _write(target, packed)
            elif target.exists():
                target.unlink()
    _write(path, data)


def build(source: Path, target: Path) -> dict[str, str]:
    """Publish every file of `source` into `target` under its own and its versioned name; returns
    {name: versioned name} (names relative, with /). Unchanged files cost a read and a hash."""
    compressor = Compressor(quiet=True)
    names: dict[str, str] = {}
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        name = path.relative_to(source).as_posix()
        if name in SKIPPED or path.name.startswith("."):
            continue
        data = path.read_bytes()
        names[name] = versioned_name(name, data)
        _publish(target / name, data, compressor)
        _publish(target / names[name], data, compressor)
    return names


def _cache_headers(headers, path: str, url: str) -> None:
    headers["Cache-Control"] = FOREVER if VERSIONED.search(url) else "no-cache"


def register(app: Flask) -> None:
    """Serve static/ through WhiteNoise (versioned, compressed) and compress dynamic answers."""
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br"])
    Compress(app)

    source = Path(app.static_folder)
    prefix = app.static_url_path
    if app.debug:
        app.extensions["static_names"] = {}
        app.wsgi_app = WhiteNoise(app.wsgi_app, root=source, prefix=prefix, autorefresh=True,
                                  add_headers_function=_cache_headers)
        return
    # The setting belongs with the others in config.py; read here until it moves there.
    target = Path(app.config.get("STATIC_BUILD_DIR") or os.environ.get("STATIC_BUILD_DIR")
                  or Path(app.instance_path) / "static")
    names = build(source, target)
    app.extensions["static_names"] = names
    app.wsgi_app = WhiteNoise(app.wsgi_app, root=target, prefix=prefix, add_headers_function=_cache_headers)

    @app.url_defaults
    def _versioned(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]


def static_names(app: Flask) -> dict[str, str]:
    """{file name under static/: its versioned name} as served now (empty in debug mode)."""
    return app.extensions.get("static_names", {})
