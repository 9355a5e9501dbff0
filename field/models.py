"""Imports every domain's models so metadata (and Alembic) sees all tables."""
from field.audit import AuditEvent  # noqa: F401
from field.auth.models import Region, User, user_regions  # noqa: F401
from field.notifications.models import Delivery, Notification  # noqa: F401
from field.dealers.models import Dealer  # noqa: F401
from field.products.models import Product  # noqa: F401
from field.stores.models import Store  # noqa: F401
from field.sales.models import Sale  # noqa: F401
from field.targets.models import Target  # noqa: F401
from field.visits.models import CoVisit, FollowUp, Objective, StepResult, Visit, VisitStep, VisitType  # noqa: F401
from field.photos.models import OwnPhoto, Photo  # noqa: F401
from field.activities.models import Activity, ActivityStore, ActivityTransition, ActivityType, Evidence, Review  # noqa: F401
from field.claims.models import (Claim, ClaimReceipt, ExpenseReceipt, LedgerLine, TravelClaim,  # noqa: F401
                                 TravelClaimReceipt, TravelReceipt)
from field.roi.models import SalesDaily  # noqa: F401
from field.alerts.models import Alert, AlertRule  # noqa: F401
from field.incentives.models import IncentiveLevel, IncentiveTask, PointsEntry, Redemption  # noqa: F401
from field.competitors.models import CompetitorPromotionType, CompetitorSighting  # noqa: F401
from field.orders.models import Order, OrderLine, OrderTransition  # noqa: F401
from field.workday.models import Workday  # noqa: F401
from field.channel.models import DealerMonth, DealerPayment, Tier, TierCriterion, TierProposal  # noqa: F401
