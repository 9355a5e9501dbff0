"""Tier pages: the tiers with their criteria and the open proposals; setting them (managers); a
proposal's confirmation or rejection; a dealer's scorecard."""
from __future__ import annotations

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from field import permissions, scope
from field.channel import operations as ops
from field.channel.forms import CriterionForm, DecideForm, PaymentForm, TierForm
from field.channel.models import Metric, ProposalStatus, Tier, TierProposal
from field.channel import scorecard as cards
from field.channel.scorecard import METRIC_LABELS, metric_label, metric_value, threshold_text
from field.channel import bp
from field.core import MAX_ID
from field.dealers.models import Dealer
from field.extensions import db
from field.web import me, refusal, render, see_other

PROPOSALS_SHOWN = 100

for _fn in (metric_label, metric_value, threshold_text):
    bp.add_app_template_global(_fn, "dealer_" + _fn.__name__)


def _tier(tier_id: int) -> Tier:
    # Tiers are the company's, not a region's: any manager sees and sets the same ones.
    tier = db.session.get(Tier, tier_id) if 0 < tier_id <= MAX_ID else None
    if tier is None:
        abort(404)
    return tier


def _tiers_page(tier_form=None, criterion_form=None, error_tier=None, error="", status=200):
    tiers = db.session.execute(select(Tier).order_by(Tier.rank.desc()).options(selectinload(Tier.criteria))
                               ).scalars().all()
    open_ = scope.query(TierProposal).where(TierProposal.status == ProposalStatus.OPEN)
    proposals = db.session.execute(open_.options(selectinload(TierProposal.dealer))
                                   .order_by(TierProposal.month.desc(), TierProposal.id).limit(PROPOSALS_SHOWN)
                                   ).scalars().all()
    total = db.session.execute(open_.with_only_columns(func.count()).order_by(None)).scalar_one()
    return render("channel/tiers.html", tiers=tiers, proposals=proposals, proposals_total=total, metrics=METRIC_LABELS,
                  tier_form=tier_form or TierForm(), criterion_form=criterion_form or CriterionForm(),
                  decide_form=DecideForm(), error_tier=error_tier, error=error, status=status)


@bp.route("/dealer-tiers")
@login_required
def tiers():
    permissions.require(permissions.may_read_dealers(me()))
    return _tiers_page()


@bp.route("/dealer-tiers", methods=["POST"])
@login_required
def new_tier():
    permissions.require(permissions.may_set_dealer_tiers(me()))
    form = TierForm()
    if not form.validate_on_submit():
        return _tiers_page(tier_form=form, error=_("Please check the form."), status=400)
    with refusal() as refused:
        tier = ops.create_tier(form.name.data, form.rank.data, me())
    if refused:
        return _tiers_page(tier_form=form, error=refused.message, status=refused.status)
    flash(_("Tier %(name)s added.", name=tier.name))
    return see_other(url_for("channel.tiers"))


@bp.route("/dealer-tiers/<int:tier_id>/criteria", methods=["POST"])
@login_required
def set_criterion(tier_id: int):
    permissions.require(permissions.may_set_dealer_tiers(me()))
    tier = _tier(tier_id)
    form = CriterionForm()
    if not form.validate_on_submit():
        return _tiers_page(criterion_form=form, error_tier=tier.id, error=_("Please check the form."), status=400)
    with refusal() as refused:
        ops.set_criterion(tier, form.metric.data or "", form.threshold.data, me())
    if refused:
        return _tiers_page(criterion_form=form, error_tier=tier.id, error=refused.message, status=refused.status)
    flash(_("Tier %(name)s: criterion saved.", name=tier.name))
    return see_other(url_for("channel.tiers"))


@bp.route("/dealer-tiers/<int:tier_id>/criteria/<metric>/remove", methods=["POST"])
@login_required
def remove_criterion(tier_id: int, metric: str):
    permissions.require(permissions.may_set_dealer_tiers(me()))
    tier = _tier(tier_id)
    if not DecideForm().validate_on_submit():
        abort(400)
    crit = next((c for c in tier.criteria if c.metric == metric), None)
    if crit is None or metric not in {m.value for m in Metric}:
        abort(404)
    ops.remove_criterion(tier, crit, me())
    flash(_("Tier %(name)s: criterion removed.", name=tier.name))
    return see_other(url_for("channel.tiers"))


@bp.route("/dealer-proposals/<int:proposal_id>/<any(confirm, reject):action>", methods=["POST"])
@login_required
def decide(proposal_id: int, action: str):
    proposal = scope.get_or_404(scope.query(TierProposal), proposal_id)
    permissions.require(permissions.may_set_dealer_tiers(me()))
    if not DecideForm().validate_on_submit():
        abort(400)
    ops.decide(proposal, action == "confirm", me())
    flash(_("%(dealer)s is now in tier %(tier)s.", dealer=proposal.dealer.name, tier=proposal.to_tier or "—")
          if action == "confirm" else _("Proposal for %(dealer)s rejected; the tier stays.", dealer=proposal.dealer.name))
    return see_other(url_for("channel.scorecard", dealer_id=proposal.dealer_id))


@bp.route("/dealers/<int:dealer_id>/scorecard")
@login_required
def scorecard(dealer_id: int):
    dealer = scope.get_or_404(scope.query(Dealer), dealer_id)
    permissions.require(permissions.may_read_dealers(me()))
    return _scorecard_page(dealer)


def _scorecard_page(dealer, payment_form=None, status=200):
    return render("channel/scorecard.html", card=cards.scorecard(dealer, me()), dealer=dealer,
                  decide_form=DecideForm(), payment_form=payment_form or PaymentForm(), status=status)


@bp.route("/dealers/<int:dealer_id>/payments", methods=["POST"])
@login_required
def record_payment(dealer_id: int):
    dealer = scope.get_or_404(scope.query(Dealer), dealer_id)
    permissions.require(permissions.may_set_dealer_tiers(me()))
    form = PaymentForm()
    if not form.validate_on_submit():
        return _scorecard_page(dealer, form, status=400 if form.csrf_token.errors else 422)
    with refusal() as refused:
        ops.record_payment(dealer, form.month.data, form.on_time.data == "yes", me())
    if refused:
        form.month.errors = [*form.month.errors, refused.message]
        return _scorecard_page(dealer, form, status=refused.status)
    flash(_("Payment recorded; it counts from the next monthly recompute."))
    return see_other(url_for("channel.scorecard", dealer_id=dealer.id))
