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


@pytest.mark.parametrize("bad", [{"lat": "\uff13\uff11.230400"}, {"accuracy": "\uff18"}])
def test_a_photo_whose_position_has_full_width_digits_is_refused(client, org, bad):
    from tests.conftest import login
    from tests.web.test_photos import good_jpeg, photo_count, post, visit_in_progress
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    r = post(client, visit, good_jpeg(seed=6), **bad)
    assert r.status_code == 422 and r.get_json()["error"] and photo_count() == 0
