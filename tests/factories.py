"""Small factories: make_store(rep=alice) and friends, one home for every noun the tests make.
Each commits what it makes.

People and places: make_region, make_user, make_org, make_store, make_product.
Visits: vtype(code) (a built-in visit type), make_visit, promo_visit.
Activities: make_type, make_activity, running (a running weekly activity), make_claim.
Photos and evidence: make_photo, past_evidence."""
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from itertools import count
from types import SimpleNamespace

from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from field.activities.models import Activity, ActivityStatus, ActivityStore, ActivityType, Evidence
from field.auth.models import Region, Role, User
from field.claims.models import Claim, ClaimStatus
from field.core import now
from field.extensions import db
from field.photos.models import Photo
from field.products.models import Product
from field.stores.models import Store
from field.visits.builtin import ensure_builtin_types
from field.visits.models import StepKind, Visit, VisitStatus, VisitType
from field.core import company_today

_seq = count(1)
PASSWORD = "secret-pass"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def make_region(code, name=None, parent=None) -> Region:
    region = Region(code=code, name=name or code)
    db.session.add(region)
    db.session.flush()
    region.set_parent(parent)
    db.session.commit()
    return region


def make_user(role=Role.REP, login=None, name=None, supervisor=None, regions=(), password=PASSWORD,
              active=True, locale="en") -> User:
    n = next(_seq)
    user = User(login=login or f"{role}{n}", name=name or f"{role.title()} {n}", role=role,
                supervisor=supervisor, active=active, locale=locale)
    # One PBKDF2 round: the app's real hash costs ~50 ms, which hundreds of tests cannot afford.
    user.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1")
    user.regions = list(regions)
    db.session.add(user)
    db.session.commit()
    return user


def make_store(rep=None, region=None, code=None, name=None, lat=31.2304, lng=121.4737, tier="B",
               channel="convenience", **kw) -> Store:
    n = next(_seq)
    store = Store(code=code or f"S{n:05d}", name=name or f"Store {n}", address=kw.pop("address", f"{n} Road"),
                  lat=lat, lng=lng, tier=tier, channel=channel, owner_rep=rep,
                  region=region or (rep.regions[0] if rep is not None and rep.regions else None), **kw)
    db.session.add(store)
    db.session.commit()
    return store


def make_product(sku=None, name=None, category="Drinks", unit_price=350, margin_pct="30.00") -> Product:
    n = next(_seq)
    product = Product(sku=sku or f"SKU{n:04d}", name=name or f"Product {n}", category=category,
                      unit_price=unit_price, margin_pct=Decimal(margin_pct))
    db.session.add(product)
    db.session.commit()
    return product


def make_org() -> SimpleNamespace:
    china = make_region("CN", "China")
    east = make_region("EAST", "East", china)
    west = make_region("WEST", "West", china)
    admin = make_user(Role.ADMIN, login="admin")
    manager = make_user(Role.MANAGER, login="manager", regions=[east])
    supervisor = make_user(Role.SUPERVISOR, login="supervisor", regions=[east])
    rep = make_user(Role.REP, login="rep", supervisor=supervisor, regions=[east])
    teammate = make_user(Role.REP, login="teammate", supervisor=supervisor, regions=[east])
    west_supervisor = make_user(Role.SUPERVISOR, login="westsup", regions=[west])
    west_rep = make_user(Role.REP, login="westrep", supervisor=west_supervisor, regions=[west])
    return SimpleNamespace(china=china, east=east, west=west, admin=admin, manager=manager,
                           supervisor=supervisor, rep=rep, teammate=teammate,
                           west_supervisor=west_supervisor, west_rep=west_rep)


# --- visits ----------------------------------------------------------------------------------

def vtype(code: str = "routine") -> VisitType:
    """The built-in visit type with this code (the built-in types are made first when missing)."""
    if ensure_builtin_types():
        db.session.commit()
    return db.session.execute(select(VisitType).where(VisitType.code == code)).scalar_one()


def make_visit(rep, store=None, *, at=None, minutes=None, point=None, status=None, flags=None,
               planned_for=None, code="routine") -> Visit:
    """A visit as the operations leave it: checked in at `at` (and out `minutes` later, completed, when given);
    planned (no check-in) without `at`. Its day is `at`'s day in Shanghai unless `planned_for` says."""
    store = store or make_store(rep=rep)
    if status is None:
        status = VisitStatus.COMPLETED if minutes is not None else (
            VisitStatus.IN_PROGRESS if at is not None else VisitStatus.PLANNED)
    visit = Visit(rep=rep, store=store, visit_type=vtype(code), status=status, flags=flags or [],
                  planned_for=planned_for or (at.astimezone(SHANGHAI).date() if at else None),
                  checkin_at=at, checkout_at=at + timedelta(minutes=minutes) if minutes is not None else None)
    if point is not None:
        visit.checkin_lat, visit.checkin_lng = point.lat, point.lng
    db.session.add(visit)
    db.session.commit()
    return visit


def promo_visit(rep, store, status=VisitStatus.COMPLETED):
    """A promotion-execution visit of `rep` at `store` today, and its photo step."""
    vt = vtype("promotion")
    visit = Visit(rep=rep, store=store, visit_type=vt, status=status, planned_for=company_today(),
                  flags=[], checkin_at=now() - timedelta(minutes=20),
                  checkout_at=now() if status == VisitStatus.COMPLETED else None)
    db.session.add(visit)
    db.session.commit()
    return visit, next(s for s in vt.steps if s.kind == StepKind.PHOTO)


# --- activities ------------------------------------------------------------------------------

def make_type(name="陈列租赁", name_en="Display rental", check_period="weekly", photos=2,
              checklist=("价签可见", "POSM 到位"), floor="60.00", margin="30.00", active=True) -> ActivityType:
    kind = ActivityType(name=name, name_en=name_en, check_period=check_period, photos_per_period=photos,
                        checklist=list(checklist), compliance_floor_pct=Decimal(floor), margin_pct=Decimal(margin),
                        active=active)
    db.session.add(kind)
    db.session.commit()
    return kind


def make_activity(applicant, stores=(), budget=100_000, kind=None, status=ActivityStatus.DRAFT, start=None,
                  end=None, title="春节堆头") -> Activity:
    """An activity in any status (set directly, as the data a test starts from), stores at `budget` fen each."""
    today = company_today()
    start = start or today + timedelta(days=1)
    activity = Activity(title=title, type=kind or make_type(name=f"类型 {next(_seq)}"),
                        applicant=applicant, status=status, period_start=start,
                        period_end=end or start + timedelta(days=27), budget_total=budget * len(stores),
                        margin_pct=Decimal("30.00"), notes="")
    db.session.add(activity)
    for store in stores:
        db.session.add(ActivityStore(activity=activity, store=store, budget=budget))
    db.session.commit()
    return activity


def running(applicant, stores, photos=2, checklist=("价签可见", "POSM 到位"), start_days_ago=10, weeks=4,
            title="堆头活动", kind=None) -> Activity:
    """A running weekly activity that started `start_days_ago` days ago: period 0 is over, period 1 runs."""
    start = company_today() - timedelta(days=start_days_ago)
    kind = kind or make_type(name=f"周检 {next(_seq)}", photos=photos, checklist=checklist)
    return make_activity(applicant, stores, kind=kind, status=ActivityStatus.RUNNING, start=start,
                         end=start + timedelta(days=7 * weeks - 1), title=title)


def make_claim(line: ActivityStore, claimant, amount=150_000, status=ClaimStatus.SUBMITTED) -> Claim:
    """A claim on one store of an activity, in any status (set directly, as the data a test starts from)."""
    claim = Claim(activity_store=line, claimant=claimant, amount=amount, status=status, note="", reason="",
                  created_at=now())
    db.session.add(claim)
    db.session.commit()
    return claim


# --- photos and evidence ---------------------------------------------------------------------

def make_photo(visit, step, flags=(), at=None, voided=False) -> Photo:
    """A stored photo row of the visit's step (its files are never read: use tests.fixtures.photos for real
    pictures)."""
    n = next(_seq)
    photo = Photo(client_id=str(uuid.uuid4()), visit=visit, step=step, rep_id=visit.rep_id, store_id=visit.store_id,
                  source="camera", sha256=f"{n:064x}", content_type="image/jpeg", width=800, height=600, bytes=1000,
                  original_key=f"originals/{n}.jpg", display_key=f"display/{n}.jpg", thumb_key=f"thumbs/{n}.jpg",
                  flags=[{"code": f} for f in flags], created_at=at or now(), voided_at=now() if voided else None,
                  void_reason="blurry" if voided else "")
    photo.set_phash(n)
    db.session.add(photo)
    db.session.commit()
    return photo


def make_own_photo(rep, purpose="receipt", at=None):
    """A stored own-photo row (a receipt's or a selfie's; its files are never read)."""
    from field.photos.models import OwnPhoto
    n = next(_seq)
    photo = OwnPhoto(client_id=str(uuid.uuid4()), rep_id=rep.id, purpose=purpose, source="camera",
                     sha256=f"{n:064x}", content_type="image/jpeg", width=800, height=600, bytes=1000,
                     original_key=f"originals/own{n}.jpg", display_key=f"display/own{n}.jpg",
                     thumb_key=f"thumbs/own{n}.jpg", flags=[], created_at=at or now())
    db.session.add(photo)
    db.session.flush()
    return photo


def make_expense_receipt(rep, amount=1550, kind="parking", spent_on=None, voided=False):
    """A stand-alone travel receipt of the rep with its own-photo row."""
    from field.claims.models import ExpenseReceipt
    from field.core import local_today
    receipt = ExpenseReceipt(rep_id=rep.id, photo_id=make_own_photo(rep).id, kind=kind, amount=amount,
                             spent_on=spent_on or local_today(rep), note="", void_reason="blurry" if voided else "",
                             voided_at=now() if voided else None)
    db.session.add(receipt)
    db.session.commit()
    return receipt


def past_evidence(line, index, visit, step, flags=(), photos=1, checklist=None):
    """Evidence of an earlier period, written as it would have been then."""
    rows = []
    for _ in range(photos):
        photo = make_photo(visit, step, flags=flags, at=now() - timedelta(days=9))
        answers = checklist if checklist is not None else {item: True for item in line.activity.type.checklist}
        rows.append(Evidence(activity_store=line, period_index=index, photo=photo, checklist=answers,
                             unconfirmed=sum(1 for v in answers.values() if not v),
                             created_by_id=visit.rep_id, created_at=now() - timedelta(days=9)))
    db.session.add_all(rows)
    db.session.commit()
    return rows


# --- time ------------------------------------------------------------------------------------

def earlier_today(minutes: float, zone: str = "Asia/Shanghai") -> datetime:
    """`minutes` ago, but never before local midnight: half-way back to it when that is nearer.

    A test that puts a visit "an hour ago" and expects it today fails between midnight and 1 am
    in Shanghai (16:00–17:00 UTC, when CI may well run)."""
    current = now()
    midnight = current.astimezone(ZoneInfo(zone)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(current - timedelta(minutes=minutes), current - (current - midnight) / 2)


# --- dealers and their orders (field/orders) ------------------------------------------------------

def make_order_dealer(region=None, code=None, name=None, active=True):
    """A dealer record (field/dealers) for order tests."""
    from field.dealers.models import Dealer
    n = next(_seq)
    dealer = Dealer(code=code or f"D{n}", name=name or f"Dealer {n}", region=region, active=active)
    db.session.add(dealer)
    db.session.commit()
    return dealer


def make_dealer_user(dealer, login=None):
    """A dealer's staff member: the dealer role, bound to `dealer`."""
    user = make_user(Role.DEALER, login=login)
    user.dealer_id = dealer.id
    db.session.commit()
    return user


def count_rows(model, *where) -> int:
    """How many rows of `model` (meeting `where`) the database holds."""
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def stored_files() -> set[str]:
    """Every file under the app's UPLOAD_DIR, as paths relative to it: what an upload left on disk."""
    from flask import current_app
    root = Path(current_app.config["UPLOAD_DIR"])
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
