"""Stores and budgets from a file: all or nothing, every error with its row and column."""
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from field.activities import importer
from field.activities.models import ActivityStatus as S, ActivityStore
from field.audit import AuditEvent
from field.core import Conflict
from field.extensions import db
from tests.factories import make_activity, make_store

pytestmark = pytest.mark.usefixtures("request_ctx")


def csv(*lines: str, encoding="utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def lines() -> dict[str, int]:
    return {a.store.code: a.budget for a in db.session.execute(select(ActivityStore)).scalars()}


def audit_count() -> int:
    return db.session.execute(select(func.count(AuditEvent.id))).scalar_one()


@pytest.fixture
def shops(org):
    return [make_store(rep=org.rep, code="E-1"), make_store(rep=org.rep, code="E-2"),
            make_store(rep=org.rep, code="E-OFF", active=False), make_store(rep=org.teammate, code="E-TEAM"),
            make_store(rep=org.west_rep, code="W-1")]


def test_a_good_csv_adds_stores_with_their_budgets(org, shops):
    activity = make_activity(org.rep, [])
    result = importer.import_budgets(activity, csv("store_code,budget", "E-1,1200.50", "e-2,\"3,000\""),
                                     "b.csv", org.rep)
    assert result.ok and (result.rows, result.created, result.updated, result.unchanged) == (2, 2, 0, 0)
    assert lines() == {"E-1": 120_050, "E-2": 300_000}
    assert activity.budget_total == 420_050
    event = db.session.execute(select(AuditEvent)).scalar_one()
    assert event.action == "activity.import" and event.details["filename"] == "b.csv"


def test_chinese_headers_in_gbk_and_an_xlsx(org, shops):
    activity = make_activity(org.rep, [])
    result = importer.import_budgets(activity, csv("门店编码,预算", "E-1,￥800", encoding="gbk"), "b.csv", org.rep)
    assert result.ok and lines() == {"E-1": 80_000}
    result = importer.import_budgets(activity, xlsx([["store_code", "budget"], ["E-1", 900], ["E-2", 1000.5]]),
                                     "b.xlsx", org.rep)
    assert result.ok and (result.created, result.updated) == (1, 1)
    assert lines() == {"E-1": 90_000, "E-2": 100_050}


def test_importing_the_same_file_again_changes_nothing(org, shops):
    activity = make_activity(org.rep, [])
    data = csv("store_code,budget", "E-1,100")
    importer.import_budgets(activity, data, "b.csv", org.rep)
    again = importer.import_budgets(activity, data, "b.csv", org.rep)
    assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert audit_count() == 1


def test_every_bad_row_is_reported_and_nothing_is_imported(org, shops):
    activity = make_activity(org.rep, [])
    data = csv("store_code,budget",
               "E-1,100",        # fine
               "NOPE,100",       # unknown
               "W-1,100",        # another region's
               "E-TEAM,100",     # a teammate's
               "E-OFF,100",      # inactive
               "E-2,0",          # zero
               "E-1,50",         # twice
               "E-2,-5",         # negative
               "E-2,abc")        # not a number
    result = importer.import_budgets(activity, data, "b.csv", org.rep)
    assert not result.ok
    got = [(e.row, e.column) for e in result.errors]
    assert got == [(3, "store_code"), (4, "store_code"), (5, "store_code"), (6, "store_code"), (7, "budget"),
                   (8, "store_code"), (9, "budget"), (10, "budget")]
    text = [str(e) for e in result.errors]
    assert "no store with code NOPE in your scope" in text[0]
    assert "no store with code W-1 in your scope" in text[1]  # another region's store reads as unknown
    assert "inactive" in text[3] and "more than zero" in text[4] and "also in row 2" in text[5]
    assert lines() == {} and activity.budget_total == 0 and audit_count() == 0


def test_a_file_missing_a_column_or_empty_is_refused(org, shops):
    activity = make_activity(org.rep, [])
    assert "required column is missing" in str(importer.import_budgets(activity, csv("store_code", "E-1"),
                                                                       "b.csv", org.rep).errors[0])
    assert not importer.import_budgets(activity, b"", "b.csv", org.rep).ok
    assert not importer.import_budgets(activity, b"PK\x03\x04garbage", "b.xlsx", org.rep).ok
    assert lines() == {}


def test_only_a_draft_takes_an_import(org, shops):
    activity = make_activity(org.rep, [], status=S.SUBMITTED)
    with pytest.raises(Conflict):
        importer.import_budgets(activity, csv("store_code,budget", "E-1,100"), "b.csv", org.rep)
    assert lines() == {}
