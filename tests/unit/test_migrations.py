"""The migrations build exactly the schema the models describe, on this run's database."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from field.extensions import db


def test_migrated_schema_matches_models():
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), db.metadata)
    assert diff == []
