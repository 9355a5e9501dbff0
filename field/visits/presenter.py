"""What the visit pages show, built in Python so the templates only lay it out (and never query).

The visit page (templates/visits/visit.html): each step as a StepView — its saved value as form
fields, its errors placed or listed, its photos and the activity evidence it collects — and the
page's context (`visit_page`). Today (templates/visits/today.html): the stops as Cards, with their
words and links made once. Photos and evidence come from the domains above visits through
field.providers; without them a step simply has none."""
from __future__ import annotations

from collections.abc import Callable
import math
from dataclasses import dataclass, field
from functools import cache
from datetime import timedelta
from itertools import groupby
from types import SimpleNamespace

from flask import url_for
from flask_babel import get_translations, gettext as _, ngettext
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import defaultload, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from werkzeug.datastructures import MultiDict
from wtforms.fields import SelectChoice

from field import permissions, providers, scope
from field.auth.models import User
from field.core import MAX_ID, format_money, now
from field.extensions import db
from field.i18n import locale_code
from field.products.models import Product
from field.stores.views import distance_label
from field.visits import operations as ops
from field.visits import planning
from field.visits.forms import CancelForm, CheckInForm, CheckOutForm, CoVisitAnswerForm, FollowUpForm
from field.visits.history_views import day_skeleton
from field.visits.models import (CoVisit, FollowUp, Objective, StepKind, StepResult, Visit, VisitStatus, VisitStep,
                                 VisitType)
from field.visits.steps import DISPLAY_TYPES, MAX_SIGHTINGS, min_photos
from field.visits.workflow import state_label
from field.web import me

ORDER_ROWS = 5  # order-line rows offered without JavaScript
COMPETITOR_ROWS = 2  # competitor sighting rows offered when none is saved (one more beyond those saved)


def active_products() -> list[Product]:
    # The catalogue is shared by every role; it is not scoped business data.
    return db.session.execute(select(Product).where(Product.active.is_(True))
                              .order_by(Product.category, Product.name)).scalars().all()


def owner_choices(owners) -> list[SelectChoice]:
    return [SelectChoice(u.id, u.name) for u in owners]


# --- what the page shows for one step ---------------------------------------------------------

@dataclass
class StepView:
    step: VisitStep
    number: int
    result: StepResult | None
    errors: dict = field(default_factory=dict)
    values: MultiDict = field(default_factory=MultiDict)
    general: list = field(default_factory=list)  # messages that belong to no field on the page
    products: list = field(default_factory=list)
    rows: list = field(default_factory=list)     # order lines: [(sku, quantity)]
    groups: list = field(default_factory=list)   # order lines: the products each row offers, made once for all
    #                                              the rows — [(category, [(sku, "name · price")])]
    labels: dict = field(default_factory=dict)   # stock count: {sku: (shelf box's label, back room box's label)}
    state: str | None = None                     # "done", "skipped" or None (operations.step_states)
    photos: list = field(default_factory=list)   # a photo step's photos that count (not voided)
    voided: list = field(default_factory=list)   # … and those a supervisor voided, for the record
    need: int = 0                                # a photo step's minimum
    evidence: list = field(default_factory=list)  # a promotion's photo step: the activities' evidence


def _values_from_result(step: VisitStep, result: StepResult | None) -> MultiDict:
    """The saved value as the form fields it came from, so a saved step opens filled in."""
    out = MultiDict()
    if result is None or result.status != "done":
        return out
    value = result.value or {}
    kind = step.kind
    if kind == StepKind.CHECKLIST:
        for i, item in enumerate(value.get("items", [])):
            out.add(f"item-{i}", "pass" if item.get("pass") else "fail")
            out.add(f"note-{i}", item.get("note", ""))
    elif kind == StepKind.NUMBER:
        out.add("value", value.get("value", ""))
    elif kind == StepKind.STOCK_COUNT:
        for line in value.get("lines", []):
            out.add("sku", line["sku"])
            out.add(f"shelf-{line['sku']}", str(line["shelf"]))
            out.add(f"back-{line['sku']}", str(line["back"]))
    elif kind == StepKind.SHELF_SHARE:
        out.add("ours", str(value.get("ours", "")))
        out.add("total", str(value.get("total", "")))
    elif kind == StepKind.ORDER_LINES:
        for line in value.get("lines", []):
            out.add("sku", line["sku"])
            out.add("quantity", str(line["quantity"]))
    elif kind == StepKind.CHOICE:
        out.add("choice", value.get("choice", ""))
    elif kind == StepKind.MULTI_CHOICE:
        for choice in value.get("choices", []):
            out.add("choice", choice)
    elif kind == StepKind.TEXT:
        out.add("text", value.get("text", ""))
    elif kind == StepKind.SIGNATURE:
        out.add("signer", value.get("signer", ""))
    elif kind == StepKind.COMPETITOR:
        for row in value.get("sightings", []):
            price = row.get("price") or 0
            for name, text in (("brand", row.get("brand", "")), ("product", row.get("product", "")),
                               ("price", f"{price // 100}.{price % 100:02d}"),
                               ("promotion", row.get("promotion") or ""), ("display", row.get("display", "")),
                               ("facings", "" if row.get("facings") is None else str(row["facings"]))):
                out.add(f"c-{name}", text)
    return out


# Error keys each kind shows beside one of its fields (stock counts and order lines: see _placed).
_FIELDS = {StepKind.NUMBER: ("value",), StepKind.SHELF_SHARE: ("ours", "total"), StepKind.CHOICE: ("choice",),
           StepKind.MULTI_CHOICE: ("choice",), StepKind.TEXT: ("text",), StepKind.SIGNATURE: ("signer",)}


def _placed(step: VisitStep, key: str, products: list, rows: list) -> bool:
    """Whether the step's form shows this error key beside a field."""
    kind = step.kind
    if key == "skip_reason":
        return True
    if kind == StepKind.CHECKLIST:
        return key.startswith(("item-", "note-"))
    if kind == StepKind.STOCK_COUNT:
        skus = {p.sku for p in products}
        return any(key == f"{prefix}-{sku}" for prefix in ("shelf", "back", "sku") for sku in skus)
    if kind == StepKind.ORDER_LINES:
        return any(key in (f"sku-{i}", f"quantity-{i}") for i in range(len(rows)))
    if kind == StepKind.COMPETITOR:
        return key.startswith("c-") and key != "c-rows"
    return key in _FIELDS.get(kind, ())


def _order_groups(products: list) -> list:
    """The order form's product choices by category (as the template's groupby would sort them), each
    with its words and price made once: every row of the form offers them all."""
    by_category = sorted(products, key=lambda p: p.category)
    return [(category, [(p.sku, f"{p.name} · {format_money(p.unit_price)}") for p in items])
            for category, items in groupby(by_category, key=lambda p: p.category)]


def _step_view(step, number, result, products, errors=None, data=None) -> StepView:
    errors = errors or {}
    values = data if data is not None else _values_from_result(step, result)
    view = StepView(step, number, result, errors, values)
    if step.kind == StepKind.STOCK_COUNT:
        wanted = step.config.get("products") or []
        view.products = [p for p in products if p.sku in wanted] if wanted else list(products)
        # Each product's two boxes are labelled by name: the sentences looked up once, filled in for each.
        shelf, back = _("%(product)s on the shelf"), _("%(product)s in the back room")
        view.labels = {p.sku: (shelf % {"product": p.name}, back % {"product": p.name}) for p in view.products}
    elif step.kind == StepKind.ORDER_LINES:
        view.products = list(products)
        view.rows = list(zip(values.getlist("sku"), values.getlist("quantity")))
        view.rows += [("", "")] * max(ORDER_ROWS - len(view.rows), 1)
        view.groups = _order_groups(view.products)
    elif step.kind == StepKind.COMPETITOR:
        names = ("brand", "product", "price", "promotion", "display", "facings")
        columns = [values.getlist(f"c-{name}") for name in names]
        count = max((len(c) for c in columns), default=0)
        view.rows = [dict(zip(names, (c[i] if i < len(c) else "" for c in columns))) for i in range(count)]
        view.rows += [dict.fromkeys(names, "")] * max(COMPETITOR_ROWS - len(view.rows), 1)
        view.rows = view.rows[:MAX_SIGHTINGS]
        view.rows = [{**row, "problems": [errors[f"c-{name}-{i}"] for name in names if f"c-{name}-{i}" in errors]}
                     for i, row in enumerate(view.rows)]
    view.general = [msg for key, msg in errors.items() if not _placed(step, key, view.products, view.rows)]
    return view


def step_views(visit: Visit, results: dict, products: list, counts: dict, errors=None, data=None,
               bodies: bool = True) -> dict[int, StepView]:
    """Every step of the visit's type as the page shows it. With `bodies` (the page shows the steps'
    bodies, not only their heads) a photo step gets the photos the viewer may see (photos'
    step_photos, one query for all the steps), a promotion's photo step the activities' evidence
    (asked once: it is the same for every photo step)."""
    errors, data = errors or {}, data or {}
    steps = list(visit.visit_type.steps)
    photo_steps = [s for s in steps if s.kind in (StepKind.PHOTO, StepKind.COMPETITOR)]
    photos = providers.ask("step_photos", visit, default={}) if photo_steps and bodies else {}
    ev_items = promotions = None
    states = ops.step_states(visit, counts)
    views = {}
    for n, s in enumerate(steps, start=1):
        view = _step_view(s, n, results.get(s.id), products, errors.get(s.id), data.get(s.id))
        view.state = states[s.id]
        if s.kind == StepKind.PHOTO:
            taken = photos.get(s.id, [])
            view.photos = [p for p in taken if p.voided_at is None]
            view.voided = [p for p in taken if p.voided_at is not None]
            view.need = min_photos(s)
            if bodies and visit.visit_type.code == "promotion":
                if ev_items is None:
                    ev_items = providers.ask("visit_evidence", visit, s, default=[])
                view.evidence = ev_items
        elif s.kind == StepKind.COMPETITOR:
            view.photos = [p for p in photos.get(s.id, []) if p.voided_at is None]
            view.voided = [p for p in photos.get(s.id, []) if p.voided_at is not None]
            if bodies:
                if promotions is None:
                    promotions = list(providers.ask("competitor_promotion_types", default={}).items())
                view.groups = promotions
                view.labels = {code: str(label) for code, label in DISPLAY_TYPES.items()}
        views[s.id] = view
    return views


# --- the visit page's context ------------------------------------------------------------------

@cache
def visit_loads() -> tuple:
    """How a visit for the page is loaded (`scope.visits().options(*visit_loads())`): with what the page
    reads of it, in the same few queries however many steps, results and objectives it has. Its store,
    type and rep (with the rep's supervisor, who may own a follow-up) come in the visit's own query, the
    type's steps in one more; the results (each with its step, which may have left the type since) and
    the objectives (each with the follow-up it came from and that one's owner) in one query each when
    first read — a planned visit's page never reads its objectives. Made once: options are immutable,
    and building them costs more than the query they shape."""
    return (joinedload(Visit.store), joinedload(Visit.rep).joinedload(User.supervisor),
            joinedload(Visit.visit_type).selectinload(VisitType.steps),
            defaultload(Visit.results).joinedload(StepResult.step),
            defaultload(Visit.objectives).joinedload(Objective.follow_up).joinedload(FollowUp.owner))


@dataclass
class DwellLeft:
    """How long the rep still has to stay for the visit type's minimum time in the store."""
    minimum: int        # the type's minimum, minutes
    minutes: int        # minutes left (0: reached)
    until: str          # ISO time the minimum is reached, for a page that counts down itself


def dwell_left(visit: Visit) -> DwellLeft | None:
    """The time left to the type's minimum dwell while the visit runs; None when the type asks none.
    A planned visit gets the whole minimum and no `until`: the page counts it from the check-in the
    phone makes (static/js/visits.js), with or without a network."""
    minimum = visit.visit_type.min_dwell_minutes or 0
    if not minimum:
        return None
    if visit.status == VisitStatus.PLANNED:
        return DwellLeft(minimum, minimum, "")
    if visit.status != VisitStatus.IN_PROGRESS or visit.checkin_at is None:
        return None
    until = visit.checkin_at + timedelta(minutes=minimum)
    left = max(0, math.ceil((until - now()).total_seconds() / 60))
    return DwellLeft(minimum, left, until.isoformat())


def dwell_words(minimum: int) -> dict[str, str]:
    """The dwell line's sentences for a page that counts down itself: "{num}" stands for the minutes
    left (the same messages as the line the server renders, so they come translated)."""
    translations = get_translations()
    left = translations.ngettext("%(num)s min left to this visit's minimum time in the store (%(min)s min).",
                                 "%(num)s min left to this visit's minimum time in the store (%(min)s min).", 2)
    reached = translations.gettext("The minimum time in the store (%(min)s min) is reached.")
    return {"left": left % {"num": "{num}", "min": minimum}, "reached": reached % {"min": minimum}}


def _plan(visit: Visit, viewer) -> list:
    """Plan: what the visit set out to do — its objectives, or before check-in what it will set."""
    if visit.status != VisitStatus.PLANNED:
        return list(visit.objectives)
    preview = ops.objectives_preview(visit.store, visit.visit_type, viewer)
    _load_owners([fu for _source, _text, fu in preview if fu is not None])
    return [SimpleNamespace(id=None, source=source, text=text, follow_up=fu, met=None, note="")
            for source, text, fu in preview]


def _load_owners(follow_ups: list[FollowUp]) -> None:
    """Give these follow-ups their owners, which the page names: those the session holds, the others in
    one query (rather than one each when the page reads them)."""
    held = {}
    for user_id in {f.owner_id for f in follow_ups}:
        user = db.session.identity_map.get(identity_key(User, user_id))
        if user is not None:
            held[user_id] = user
    missing = sorted({f.owner_id for f in follow_ups} - held.keys())
    if missing:
        held.update((u.id, u) for u in db.session.execute(select(User).where(User.id.in_(missing))).scalars())
    for f in follow_ups:
        set_committed_value(f, "owner", held.get(f.owner_id))


def visit_page(visit: Visit, step_errors=None, step_data=None, bodies: bool = True, **extra) -> dict:
    """Everything templates/visits/visit.html shows, for the signed-in user; `extra` (forms that
    came back with errors, messages) overrides it. `bodies=False` leaves out what only the steps'
    bodies show — their photos, the activities' evidence, the catalogue of the stock and order
    forms — for answers that render none of them (a step's head, the checks, an objective…)."""
    viewer = me()
    locale = locale_code()
    mine = viewer.id == visit.rep_id  # the visit's own rep
    editing = mine and visit.status == VisitStatus.IN_PROGRESS
    # A planned visit's page carries the forms of the visit, hidden until check-in: kept on the phone,
    # it lets the rep check in and do the whole visit without a network (static/js/visits.js).
    ahead = mine and visit.status == VisitStatus.PLANNED
    fill_in = editing or ahead
    results = {r.step_id: r for r in visit.results}
    steps = list(visit.visit_type.steps)
    needs_products = fill_in and any(s.kind in (StepKind.STOCK_COUNT, StepKind.ORDER_LINES) for s in steps)
    products = active_products() if needs_products and bodies else []
    step_ids = {s.id for s in steps}
    counts = ops.photo_counts(visit)
    follow_ups = db.session.execute(scope.follow_ups().where(FollowUp.visit_id == visit.id)
                                    .options(joinedload(FollowUp.owner)).order_by(FollowUp.id)).scalars().all()
    co_visits = db.session.execute(select(CoVisit).where(CoVisit.visit_id == visit.id)
                                   .options(joinedload(CoVisit.supervisor)).order_by(CoVisit.id)).scalars().all()
    owners = ops.follow_up_owners(visit) if fill_in else []
    followup_form = extra.pop("followup_form", None) or FollowUpForm(formdata=None)
    followup_form.owner.choices = owner_choices(owners)
    if followup_form.owner.data is None:
        followup_form.owner.data = viewer.id
    ctx = {
        "visit": visit, "locale": locale, "mine": mine, "editing": editing, "ahead": ahead, "fill_in": fill_in,
        "steps": steps, "step_views": step_views(visit, results, products, counts, step_errors, step_data,
                                                 bodies=bodies),
        "old_results": [r for r in visit.results if r.step_id not in step_ids],
        "plan": _plan(visit, viewer),
        # field/orders: the store's last order before this visit, and what became of this visit's order steps.
        "last_order": providers.ask("store_last_order", visit.store, before_visit=visit, default=None),
        "step_orders": providers.ask("visit_step_orders", visit, default={}),
        "checks": ops.auto_checks(visit, locale, counts) if visit.status != VisitStatus.PLANNED else [],
        "missing": ops.missing_required(visit, counts) if fill_in else [],
        "dwell": dwell_left(visit) if fill_in else None,
        # The camera is there for the rep during the visit, and on a planned visit's page too (hidden
        # until check-in) so a visit can be done offline.
        "can_add_photos": mine and (editing or ahead),
        "dwell_words": dwell_words,
        "follow_ups": follow_ups, "co_visits": co_visits,
        # The supervisor scores once; after that the page shows the score.
        "scored": any(c.supervisor_id == viewer.id for c in co_visits),
        "state_label": state_label,
        "checkin_form": None, "checkout_form": None, "cancel_form": None, "answer_form": None,
        "followup_form": followup_form, "objective_errors": {}, "objective_data": {},
        "oob": False,
    }
    ctx.update(extra)
    if ctx["checkin_form"] is None and visit.status == VisitStatus.PLANNED and mine:
        ctx["checkin_form"] = CheckInForm(formdata=None)
    if ctx["checkout_form"] is None and fill_in:
        ctx["checkout_form"] = CheckOutForm(formdata=None)
    if ctx["cancel_form"] is None and permissions.may_cancel_visit(viewer, visit):
        ctx["cancel_form"] = CancelForm(formdata=None)
    if ctx["answer_form"] is None and mine and co_visits:
        ctx["answer_form"] = CoVisitAnswerForm(formdata=None)
    return ctx


# --- Today's stops ---------------------------------------------------------------------------------

def why_label(code: str, detail=None) -> str:
    """Why a store is on the list, in a few words: planned, overdue N days, follow-up due, never visited."""
    if code == "planned":
        return _("Planned: %(type)s", type=detail.label(locale_code())) if detail is not None else _("Planned")
    if code == "overdue":
        if detail is None or detail <= 0:
            return _("Due today") if detail == 0 else _("Due")
        return ngettext("Overdue %(num)s day", "Overdue %(num)s days", detail)
    if code == "follow_up":
        return _("Follow-up due %(day)s", day=day_skeleton(detail, "MMMd")) if detail else _("Follow-up open")
    if code == "never_visited":
        return _("Never visited")
    if code == "activity":
        return _("Activity needs evidence: %(titles)s", titles=" · ".join(detail))
    return str(code)


@dataclass
class Card:
    """A stop as Today shows it, with its words and links made once in Python: the page holds up to a
    hundred stops, and each gettext or url_for called from the template costs 8–15 µs (bench/today.py)."""
    stop: planning.Stop
    why: list[tuple[str, str]]  # (reason code, its words)
    leg: str  # "1.2 km from the previous stop"; "" when the stop has no leg
    store_url: str
    checkin_url: str  # the form's action: the planned visit's check-in, else a new visit at the store
    details_url: str


@dataclass
class Cards:
    routed: list[Card]
    unplaced: list[Card]
    also_due: list[Card]


def _url_by_id(endpoint: str, name: str) -> Callable[[int], str]:
    """url_for(endpoint, name=id) for many ids at the cost of one: built once with an id no row has,
    which each id then takes the place of."""
    head, tail = url_for(endpoint, **{name: MAX_ID}).rsplit(str(MAX_ID), 1)
    return lambda value: f"{head}{value}{tail}"


def cards(day: planning.Day) -> Cards:
    """Today's stops as cards. Stops share most of their reasons ("Overdue 3 days"), so each is put
    in words once; a leg's sentence is looked up once and filled in for each stop."""
    store_url, store_checkin = _url_by_id("stores.detail", "store_id"), _url_by_id("visits.store_checkin", "store_id")
    visit_checkin, visit_show = _url_by_id("visits.checkin", "visit_id"), _url_by_id("visits.show", "visit_id")
    later_leg = _("%(d)s from the previous stop")
    words: dict[tuple, str] = {}

    def leg_words(number: int, d: str) -> str:
        if number > 1:
            return later_leg % {"d": d}
        if day.start_from == "position":
            return _("%(d)s from you", d=d)
        return _("%(d)s from %(store)s", d=d, store=day.start_store.name)

    def card(stop: planning.Stop, number: int | None = None) -> Card:
        why = []
        for code, detail in stop.reasons:
            key = (code, tuple(detail) if isinstance(detail, list) else detail)
            if key not in words:
                words[key] = why_label(code, detail)
            why.append((code, words[key]))
        leg = ""
        if stop.leg_m is not None:
            leg = leg_words(number, distance_label(stop.leg_m).replace(" ", "\u00a0"))
        store_id, visit = stop.store.id, stop.visit
        return Card(stop, why, leg, store_url(store_id),
                    visit_checkin(visit.id) if visit else store_checkin(store_id),
                    visit_show(visit.id) if visit else store_checkin(store_id))

    return Cards([card(s, n) for n, s in enumerate(day.routed, 1)], [card(s) for s in day.unplaced],
                 [card(s) for s in day.also_due])


def hidden_fields(form) -> Markup:
    """A check-in form's hidden fields (the CSRF token, the position the phone fills in), without ids
    and without the client key (nor the outbox's client_id): many stops share the page, and each gets its own key."""
    return Markup("").join(f(id=False) for f in form
                           if f.type in ("HiddenField", "CSRFTokenField") and f.name not in ("client_key", "client_id"))
