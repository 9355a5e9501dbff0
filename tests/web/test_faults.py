"""Faults the app rides out: a database connection dropped between two requests costs no request."""
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from field.extensions import db


def test_the_engine_checks_a_pooled_connection_before_using_it(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    assert db.engine.pool._pre_ping


def test_a_dropped_database_connection_costs_no_request(app, as_rep):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite has no server connection to drop")
    assert as_rep.get("/today").status_code == 200
    db.session.remove()  # every connection of the app back in its pool, as between two requests
    outsider = create_engine(db.engine.url, poolclass=NullPool)
    with outsider.begin() as conn:  # what a database restart or an idle timeout does to the pool
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    outsider.dispose()
    assert killed >= 1
    assert as_rep.get("/today").status_code == 200
