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
