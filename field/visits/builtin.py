"""The eight built-in visit types. Seeded once; admins edit them like any other type."""
from sqlalchemy import select

from field.extensions import db
from field.visits.models import Phase, StepKind, VisitStep, VisitType

P, D, C, A = Phase.PLAN, Phase.DO, Phase.CHECK, Phase.ACT
K = StepKind

# code, name (zh), name (en), minimum dwell minutes, standing goals (zh), steps:
# (phase, kind, title zh, title en, required, config)
BUILTIN = [
    ("routine", "例行拜访", "Routine visit", 10, ["检查主推产品陈列", "确认库存是否充足"], [
        (D, K.CHECKLIST, "门店检查", "Store check", True,
         {"items": ["主推产品在架", "价签清晰", "货架整洁", "无临期产品"]}),
        (D, K.STOCK_COUNT, "库存盘点", "Stock count", False, {"products": [], "floor": {}}),
        (D, K.PHOTO, "门头及货架照片", "Storefront and shelf photos", False, {"min_photos": 2}),
        (D, K.ORDER_LINES, "订单", "Order", False, {}),
        (C, K.TEXT, "拜访小结", "Visit summary", False, {}),
    ]),
    ("display_audit", "陈列检查", "Display audit", 15, ["陈列符合标准"], [
        (D, K.SHELF_SHARE, "排面占比", "Shelf share", True, {}),
        (D, K.CHECKLIST, "陈列标准", "Display standard", True,
         {"items": ["端架陈列到位", "POSM 物料齐全", "价签与促销价一致", "品类按标准排列"]}),
        (D, K.PHOTO, "陈列照片", "Display photos", False, {"min_photos": 3}),
        (C, K.CHOICE, "陈列评级", "Display rating", True, {"choices": ["优", "良", "差"]}),
    ]),
    ("promotion", "促销执行", "Promotion execution", 15, ["完成活动举证"], [
        (D, K.CHECKLIST, "活动执行检查", "Promotion checklist", True,
         {"items": ["活动物料已布置", "促销价已执行", "促销员在岗"]}),
        (D, K.PHOTO, "活动举证照片", "Promotion evidence photos", False, {"min_photos": 2}),
        (D, K.NUMBER, "活动期间销量（件）", "Units sold during promotion", False, {"min": 0, "max": 100000}),
        (D, K.COMPETITOR, "竞品采集", "Competitor sightings", False, {"min_photos": 0}),
    ]),
    ("stock_count", "库存盘点", "Stock count", 10, ["盘点全部在售产品"], [
        (D, K.STOCK_COUNT, "库存盘点", "Stock count", True, {"products": [], "floor": {}}),
        (D, K.CHECKLIST, "临期检查", "Expiry check", False, {"items": ["无过期产品", "临期产品已登记"]}),
    ]),
    ("order", "订单拜访", "Order taking", 5, ["拿到补货订单"], [
        (D, K.STOCK_COUNT, "库存盘点", "Stock count", False, {"products": [], "floor": {}}),
        (D, K.ORDER_LINES, "订单", "Order", True, {}),
        (A, K.SIGNATURE, "店主签字确认", "Owner's signature", False, {}),
    ]),
    ("prospecting", "新店开发", "New-store prospecting", 10, ["了解门店经营情况", "介绍产品与合作政策"], [
        (D, K.CHOICE, "门店类型", "Store type", True, {"choices": ["便利店", "超市", "烟酒店", "餐饮", "其他"]}),
        (D, K.NUMBER, "日均客流（人）", "Daily footfall", False, {"min": 0, "max": 100000}),
        (D, K.MULTI_CHOICE, "在售竞品品牌", "Competitor brands stocked", False,
         {"choices": ["品牌甲", "品牌乙", "品牌丙", "无"]}),
        (D, K.PHOTO, "门头照片", "Storefront photo", False, {"min_photos": 1}),
        (C, K.CHOICE, "合作意向", "Interest", True, {"choices": ["高", "中", "低"]}),
        (A, K.TEXT, "下一步计划", "Next step", False, {}),
    ]),
    ("collection", "回款拜访", "Payment collection", 5, ["收回到期货款"], [
        (D, K.NUMBER, "本次回款金额（元）", "Amount collected (yuan)", True, {"min": 0, "max": 10000000}),
        (D, K.CHOICE, "付款方式", "Payment method", True, {"choices": ["现金", "微信", "支付宝", "转账"]}),
        (A, K.SIGNATURE, "店主签字确认", "Owner's signature", True, {}),
    ]),
    ("co_visit", "主管协访", "Supervisor co-visit", 15, ["评估业务员拜访质量"], [
        (D, K.SCORECARD, "协访评分", "Co-visit scorecard", False, {"items": [
            {"label": "拜访准备", "max": 10}, {"label": "陈列执行", "max": 10},
            {"label": "客情沟通", "max": 10}, {"label": "订单达成", "max": 10}, {"label": "信息记录", "max": 10}]}),
        (C, K.TEXT, "协访总结", "Co-visit summary", False, {}),
    ]),
]


def ensure_builtin_types() -> int:
    """Stage any built-in type that does not exist yet (by code); returns how many were made.
    Seeding calls it first; the caller (seed-demo, a bench's or a test's set-up) commits."""
    existing = set(db.session.execute(select(VisitType.code)).scalars())
    made = 0
    for code, name, name_en, dwell, goals, steps in BUILTIN:
        if code in existing:
            continue
        vt = VisitType(code=code, name=name, name_en=name_en, min_dwell_minutes=dwell, goals=goals, active=True)
        db.session.add(vt)
        db.session.flush()
        for position, (phase, kind, title, title_en, required, config) in enumerate(steps):
            db.session.add(VisitStep(visit_type_id=vt.id, position=position, phase=phase, kind=kind, title=title,
                                     title_en=title_en, required=required, config=config))
        made += 1
    return made
