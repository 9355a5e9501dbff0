"""What the benches share: timing a call, and a scratch PostgreSQL database made afresh."""
import statistics
import time

from sqlalchemy import create_engine, text


def median_ms(fn, runs: int, warmup: int) -> tuple[float, float, float]:
    """Median and worst wall time of `fn` in ms, and the median CPU time of this process (which
    other programs on a busy machine do not inflate; a database server's own time is not in it)."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall) * 1000, max(wall) * 1000, statistics.median(cpu) * 1000


def fresh_postgres(url: str) -> bool:
    """Drop the database `url` names (when an earlier run left it) and create it again; False, with
    a line saying so, when no server answers (the SQLite figures still stand)."""
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    try:
        engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                               isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return True
    except Exception as exc:  # noqa: BLE001 — any failure means: no PostgreSQL here
        print(f"PostgreSQL at {admin_url} not reachable ({exc.__class__.__name__}); skipped")
        return False


# --- a demo company served on loopback, for the browser benches ---------------------------------

def demo_app(tmp: str, **config):
    """The app on a fresh SQLite file in `tmp` with the demo company seeded (as `./run` has it)."""
    from pathlib import Path

    from flask_migrate import upgrade

    from field import create_app, demo
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.sqlite'}",
                      "UPLOAD_DIR": str(Path(tmp) / "uploads"), "SECRET_KEY": "bench-secret",
                      "LOGIN_RATE_LIMIT": "100000 per minute", **config})
    with app.app_context():
        upgrade()
        demo.seed()
    return app


def serve(wsgi_app):
    """Serve `wsgi_app` on a free loopback port in a thread: (base url, server to .shutdown())."""
    import threading

    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def session_cookie(app, login: str) -> str:
    """The `session` cookie of `login` signed in (what the browser holds after the sign-in form)."""
    from sqlalchemy import select

    from field.auth.models import User
    from field.extensions import db
    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.login == login)).scalar_one()
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": str(user_id), "_fresh": True})


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


# --- what the scale benches share: bulk rows, signed-in clients, timed pages, both databases ----------

def bulk_insert(table: str, columns, rows, postgres: bool, chunk: int = 50_000) -> None:
    """Insert `rows` (tuples in `columns` order) fast, past the ORM: COPY on PostgreSQL; on SQLite the
    driver's executemany in chunks, with values as SQLAlchemy keeps them there (a timestamp as
    'YYYY-MM-DD HH:MM:SS.ffffff' UTC, a date ISO, an enum its value). Needs an app context."""
    from datetime import date, datetime, timezone
    from field.extensions import db
    raw = db.engine.raw_connection()
    try:
        if postgres:
            with raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            def plain(value):
                if isinstance(value, datetime):
                    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
                if isinstance(value, date):
                    return value.isoformat()
                return getattr(value, "value", value)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            batch = []
            for row in rows:
                batch.append([plain(v) for v in row])
                if len(batch) == chunk:
                    raw.cursor().executemany(sql, batch)
                    batch = []
            if batch:
                raw.cursor().executemany(sql, batch)
        raw.commit()
    finally:
        raw.close()


def signed_in(app, user_id: int):
    """A test client signed in as the user (the session cookie Flask-Login reads)."""
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user_id)
        sess["_fresh"] = True
    return client


def time_pages(pages, runs: int, warmup: int, budget_ms: float) -> bool:
    """GET each (label, client, path) `runs` times after `warmup`; one line each:
    `  <label>: median X ms (budget B ms)[  OVER BUDGET], max Y ms, app CPU Z ms`. True when all fit.
    app CPU is this process's own time (on SQLite the database's too), which a busy machine does not inflate."""
    ok = True
    for label, client, path in pages:
        def run(client=client, path=path):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        median, worst, cpu = median_ms(run, runs, warmup)
        over = median >= budget_ms
        ok = ok and not over
        print(f"  {label}: median {median:.0f} ms (budget {budget_ms:.0f} ms){'  OVER BUDGET' if over else ''}, "
              f"max {worst:.0f} ms, app CPU {cpu:.0f} ms")
    return ok


def both_databases(measure, pg_url: str) -> int:
    """A bench's main(): measure("SQLite", url) and measure("PostgreSQL", pg_url) (argv may name one);
    the exit status says whether every page fit its budget."""
    import sys
    import tempfile
    from pathlib import Path
    which = sys.argv[1:] or ["sqlite", "postgresql"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in which:
            results.append(measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite'}"))
        if "postgresql" in which and fresh_postgres(pg_url):
            results.append(measure("PostgreSQL", pg_url))
    return 0 if all(results) else 1


def country_and_manager() -> tuple[list[int], int]:
    """A country of 5 regions × 6 areas and a manager of the whole country: (area ids, manager id)."""
    from sqlalchemy import insert
    from field.auth.models import Region, Role, User, user_regions
    from field.extensions import db
    country = Region(code="CN", name="中国")
    db.session.add(country)
    db.session.flush()
    country.set_parent(None)
    areas = []
    for r in range(5):
        region = Region(code=f"R{r}", name=f"大区{r}")
        db.session.add(region)
        db.session.flush()
        region.set_parent(country)
        for a in range(6):
            area = Region(code=f"R{r}A{a}", name=f"片区{r}-{a}")
            db.session.add(area)
            db.session.flush()
            area.set_parent(region)
            areas.append(area.id)
    manager = User(login="manager", name="经理", role=Role.MANAGER, password_hash="x")
    db.session.add(manager)
    db.session.flush()
    db.session.execute(insert(user_regions), [{"user_id": manager.id, "region_id": country.id}])
    return areas, manager.id
