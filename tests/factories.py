"""Small factories: make_store(rep=alice) and friends. Each commits what it makes."""
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from types import SimpleNamespace

from zoneinfo import ZoneInfo

from werkzeug.security import generate_password_hash

from field.auth.models import Region, Role, User
from field.extensions import db
from field.products.models import Product
from field.stores.models import Store

_seq = count(1)
PASSWORD = "secret-pass"


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


def earlier_today(minutes: float, zone: str = "Asia/Shanghai") -> datetime:
    """`minutes` ago, but never before local midnight: half-way back to it when that is nearer.

    A test that puts a visit "an hour ago" and expects it today fails between midnight and 1 am
    in Shanghai (16:00–17:00 UTC, when CI may well run)."""
    from field.core import now
    current = now()
    midnight = current.astimezone(ZoneInfo(zone)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(current - timedelta(minutes=minutes), current - (current - midnight) / 2)
