"""The demo company: its regions, its team, the stores and products it sells, and four weeks of
the reps' visits — a believable team selling drinks, snacks and household goods in Shanghai and
Chengdu.

Everything comes from one seeded random generator, so every demo looks the same.
Some store positions are given in GCJ-02 or BD-09, as if picked off a Chinese map,
and converted like any import would be; the rest are WGS-84."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from werkzeug.security import generate_password_hash

from field.auth.models import Region, Role, User
from field.core import now
from field.extensions import db
from field.geo import Datum, Point, distance_m, from_wgs84, to_wgs84
from field.permissions import is_rep
from field.products.models import Product
from field.stores.models import Channel, Store
from field.visits.builtin import ensure_builtin_types
from field.visits.models import FollowUp, Visit, VisitStatus, VisitType

PASSWORD = "field-demo"
SEED = 20240601
STORES_PER_REP = 30

# Built-up areas the stores fall in (WGS-84): (lat_min, lat_max, lng_min, lng_max).
BOUNDS = {
    "SH": (31.10, 31.35, 121.35, 121.60),
    "CD": (30.55, 30.75, 103.95, 104.15),
}
CITY_NAMES = {"SH": "上海市", "CD": "成都市"}

# code, name, parent code
REGIONS = [
    ("CN", "中国", None),
    ("EAST", "华东大区", "CN"),
    ("SW", "西南大区", "CN"),
    ("SH-PX", "上海浦西", "EAST"),
    ("SH-PD", "上海浦东", "EAST"),
    ("CD-N", "成都城北", "SW"),
    ("CD-S", "成都城南", "SW"),
]


# One rep's patch a line: area, rep login and name, district, the place its stores cluster
# around (WGS-84), its streets. In rep order: the reps are created in this order.
_TERRITORY_TABLE = """
SH-PX  rep01 吴俊杰  黄浦区    人民广场  31.232 121.478  南京东路 淮海中路 西藏南路 复兴中路 河南中路
SH-PX  rep02 徐静怡  静安区    静安寺    31.228 121.450  南京西路 延安中路 常德路 江宁路 北京西路
SH-PX  rep03 孙浩然  徐汇区    徐家汇    31.190 121.437  漕溪北路 肇嘉浜路 衡山路 天钥桥路 虹桥路
SH-PX  rep04 胡婷婷  长宁区    中山公园  31.214 121.405  天山路 仙霞路 中山西路 延安西路 愚园路
SH-PX  rep05 朱磊    普陀区    长寿路    31.245 121.405  长寿路 曹杨路 金沙江路 真北路 武宁路
SH-PD  rep06 高鹏飞  浦东新区  陆家嘴    31.236 121.508  陆家嘴环路 世纪大道 东方路 浦东南路 银城中路
SH-PD  rep07 林晓燕  浦东新区  花木      31.212 121.548  锦绣路 芳甸路 花木路 梅花路 白杨路
SH-PD  rep08 何伟    浦东新区  张江      31.205 121.575  祖冲之路 张衡路 科苑路 碧波路 郭守敬路
SH-PD  rep09 郭佳琪  浦东新区  金桥      31.262 121.572  金桥路 新金桥路 金高路 张杨路 云山路
SH-PD  rep10 罗丹    浦东新区  三林      31.150 121.505  三林路 上南路 东明路 杨思路 永泰路
CD-N   rep11 梁斌    金牛区    茶店子    30.700 104.025  蜀汉路 茶店子路 营门口路 沙湾路 金府路
CD-N   rep12 宋雨欣  金牛区    荷花池    30.690 104.075  二环路北一段 星辉西路 解放路 人民北路 荷花池路
CD-N   rep13 郑凯    青羊区    宽窄巷子  30.668 104.045  长顺上街 同仁路 金河路 西御街 青华路
CD-N   rep14 谢芳    成华区    建设路    30.665 104.110  建设北路 建设南路 二仙桥路 双林路 猛追湾街
CD-N   rep15 韩冬    成华区    驷马桥    30.700 104.100  驷马桥路 府青路 北站东一路 双建路 昭觉寺南路
CD-S   rep16 唐敏    锦江区    春熙路    30.655 104.080  红星路三段 东大街 总府路 暑袜街 春熙路
CD-S   rep17 冯涛    武侯区    玉林      30.630 104.055  玉林南路 芳草街 人民南路四段 科华北路 棕北路
CD-S   rep18 于洋    高新区    金融城    30.585 104.065  交子大道 天府大道北段 益州大道 锦城大道 剑南大道
CD-S   rep19 董倩    高新区    桂溪      30.570 104.070  天府二街 府城大道 吉泰路 盛安街 世纪城路
CD-S   rep20 曾志远  锦江区    三圣      30.610 104.115  成龙大道 锦华路 静康路 汇源南路 三环路东五段
"""


@dataclass(frozen=True)
class Territory:
    """One rep's patch: a district, a centre the stores cluster around, its streets."""

    area: str
    rep: str
    rep_name: str
    district: str
    place: str
    lat: float
    lng: float
    roads: tuple[str, ...]

    @classmethod
    def parse(cls, line: str) -> Territory:
        area, rep, rep_name, district, place, lat, lng, *roads = line.split()
        return cls(area, rep, rep_name, district, place, float(lat), float(lng), tuple(roads))


TERRITORIES = [Territory.parse(line) for line in _TERRITORY_TABLE.strip().splitlines()]

# area code → (city, its supervisor's login and name); its reps are the territories'
AREAS = {
    "SH-PX": ("SH", "sup1", "王海涛"),
    "SH-PD": ("SH", "sup2", "张丽娟"),
    "CD-N": ("CD", "sup3", "刘志强"),
    "CD-S": ("CD", "sup4", "杨雪"),
}

# role, login, name, region codes, supervisor login
USERS = [
    (Role.ADMIN, "admin", "周立华", ("CN",), None),
    (Role.MANAGER, "manager1", "陈建国", ("EAST",), None),
    (Role.MANAGER, "manager2", "李红梅", ("SW",), None),
    *[(Role.SUPERVISOR, login, name, (area,), None) for area, (_city, login, name) in AREAS.items()],
    *[(Role.REP, t.rep, t.rep_name, (t.area,), AREAS[t.area][1]) for t in TERRITORIES],
]
LOGINS = [u[1] for u in USERS]

DEALERS = {
    "SH": ["上海沪通商贸有限公司", "上海申联食品贸易有限公司", "上海浦润供应链管理有限公司"],
    "CD": ["成都蓉兴商贸有限公司", "成都锦润食品有限公司", "四川川信供应链有限公司"],
}

# channel → (share of stores, tier weights A/B/C/D)
CHANNEL_MIX = {
    Channel.KA: (4, (60, 40, 0, 0)),
    Channel.SUPERMARKET: (12, (10, 40, 40, 10)),
    Channel.CONVENIENCE: (22, (0, 20, 45, 35)),
    Channel.TRADITIONAL: (42, (0, 3, 22, 75)),
    Channel.CATERING: (15, (0, 10, 40, 50)),
    Channel.WHOLESALE: (5, (10, 30, 40, 20)),
}
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗"
KA_BRANDS = ["永佳超市", "华盛万家", "大润丰", "联惠购物广场", "欧佳乐超市"]
SUPERMARKETS = {
    "SH": ["邻里惠超市", "百佳鲜超市", "申城生活超市", "家得利超市", "联华邻"],
    "CD": ["蓉城连锁超市", "红叶超市", "惠民生活超市", "锦城优选超市", "天府鲜超市"],
}
CONVENIENCE = {
    "SH": ["悦客便利", "星旺便利", "乐邻便利", "365便利店", "申捷便利"],
    "CD": ["蜀便利", "蓉易购便利", "乐邻便利", "365便利店", "天天见便利"],
}
TRADITIONAL = ["{s}记烟酒店", "{s}姐便利店", "兴旺副食店", "{road}烟酒商行", "{s}家小卖部", "福满多便利",
               "老{s}烟杂店", "好运来超市", "{s}氏夫妻店", "万家乐副食", "顺发烟酒", "便民小超市"]
CATERING = {
    "SH": ["{s}记本帮菜", "老弄堂面馆", "阿娘生煎", "{s}家小笼", "福满楼酒家", "石库门饭店", "弄堂小馆"],
    "CD": ["{s}记火锅", "巷子里串串香", "锦里冒菜", "巴蜀川菜馆", "{s}家钵钵鸡", "老茶馆", "蓉城小面"],
}
WHOLESALE = ["{road}副食批发部", "{s}氏食品批发", "{place}粮油批发", "万通烟酒批发"]

# A product a line, in SKU order within its prefix: SKU prefix, category, unit price in fen, margin %, name.
_PRODUCT_TABLE = """
BEV  饮料    200  35  清泉矿泉水 550ml
BEV  饮料    350  32  冰爽柠檬茶 500ml
BEV  饮料    300  30  冰红茶 500ml
BEV  饮料   1280  28  鲜橙汁 1L
BEV  饮料    300  25  可乐 330ml 罐装
BEV  饮料    450  38  无糖苏打水 410ml
BEV  饮料    350  33  茉莉绿茶 500ml
BEV  饮料    600  40  能量饮料 250ml
SNK  零食    750  34  原味薯片 70g
SNK  零食    550  36  麻辣锅巴 90g
SNK  零食   2880  30  五香牛肉干 100g
SNK  零食    890  31  奶油夹心饼干 200g
SNK  零食   1250  37  海苔卷 40g
SNK  零食   3990  29  每日坚果 25g×7
SNK  零食    350  42  香辣辣条 106g
SNK  零食    990  33  巧克力威化 150g
DAI  乳品   4800  18  纯牛奶 250ml×12
DAI  乳品    550  24  原味酸奶 200g
DAI  乳品   1390  20  低脂牛奶 1L
DAI  乳品   1050  27  乳酸菌饮品 100ml×5
DAI  乳品    600  25  芒果味酸奶 200g
DAI  乳品   5200  19  高钙牛奶 250ml×12
DAI  乳品   5880  22  儿童成长牛奶 190ml×12
DAI  乳品    890  26  希腊式酸奶 135g
LIQ  酒水    650  22  纯生啤酒 500ml
LIQ  酒水   1200  30  精酿白啤 330ml
LIQ  酒水  16800  35  浓香型白酒 52度 500ml
LIQ  酒水   2400  21  清爽啤酒 330ml×6
LIQ  酒水   1800  28  花雕黄酒 500ml
LIQ  酒水   8800  38  干红葡萄酒 750ml
LIQ  酒水   2600  33  青梅果酒 330ml
LIQ  酒水   1500  30  桂花米酒 500ml
HOM  日化   3990  26  薰衣草洗衣液 2kg
HOM  日化   1590  27  柠檬洗洁精 1.5kg
HOM  日化   2490  18  三层抽纸 100抽×6
HOM  日化   1290  32  清新薄荷牙膏 120g
HOM  日化   3590  34  柔顺洗发水 400ml
HOM  日化   3290  33  沐浴露 750ml
HOM  日化   1190  29  檀香香皂 125g×3
HOM  日化   1690  31  婴儿湿巾 80片
"""


def _weighted(rnd: random.Random, options, weights):
    return rnd.choices(options, weights=weights, k=1)[0]


def _position(rnd: random.Random, city: str, t: Territory) -> tuple[float, float]:
    """A WGS-84 spot near the territory's centre, kept a margin inside the city's bounds."""
    lat_min, lat_max, lng_min, lng_max = BOUNDS[city]
    margin = 0.01  # room for the datum round trip
    while True:
        lat, lng = rnd.gauss(t.lat, 0.011), rnd.gauss(t.lng, 0.013)
        if lat_min + margin <= lat <= lat_max - margin and lng_min + margin <= lng <= lng_max - margin:
            return lat, lng


def _store_name(rnd: random.Random, city: str, channel: str, t: Territory, road: str, number: int) -> str:
    s = rnd.choice(SURNAMES)
    fill = {"s": s, "road": road, "place": t.place}
    if channel == Channel.KA:
        return f"{rnd.choice(KA_BRANDS)}({t.place}店)"
    if channel == Channel.SUPERMARKET:
        return f"{rnd.choice(SUPERMARKETS[city])}({road}店)"
    if channel == Channel.CONVENIENCE:
        return f"{rnd.choice(CONVENIENCE[city])}({road}{number}号店)"
    if channel == Channel.CATERING:
        return rnd.choice(CATERING[city]).format(**fill) + f"({road}店)"
    if channel == Channel.WHOLESALE:
        return rnd.choice(WHOLESALE).format(**fill)
    return rnd.choice(TRADITIONAL).format(**fill)


def _unique(name: str, names: set, road: str) -> str:
    """A second 兴旺副食店 becomes 兴旺副食店(长寿路店); a second branch on one road, (长寿路二店)."""
    if name not in names:
        return name
    if not name.endswith("店)"):
        name = f"{name}({road}店)"
    candidates = [name] + [f"{name[:-2]}{nth}店)" for nth in "二三四五六七八九"]
    return next((c for c in candidates if c not in names), f"{name}{len(names)}")


def store_rows(area_ids: dict, rep_ids: dict, seed: int = SEED) -> list[dict]:
    """The demo stores as insert rows, given region ids by code and rep ids by login.

    The same seed gives the same stores, whatever ran before."""
    rnd = random.Random(seed)
    channels = list(CHANNEL_MIX)
    shares = [CHANNEL_MIX[c][0] for c in channels]
    rows, names, counters = [], set(), {"SH": 0, "CD": 0}
    for territory in TERRITORIES:
        city = AREAS[territory.area][0]
        for _ in range(STORES_PER_REP):
            counters[city] += 1
            channel = _weighted(rnd, channels, shares)
            tier = _weighted(rnd, "ABCD", CHANNEL_MIX[channel][1])
            road = rnd.choice(territory.roads)
            number = int(rnd.triangular(1, 1200, 60))
            name = _unique(_store_name(rnd, city, channel, territory, road, number), names, road)
            names.add(name)
            address = f"{CITY_NAMES[city]}{territory.district}{road}{number}号"
            lat, lng = _position(rnd, city, territory)
            # About a fifth were picked off an Amap-style map (GCJ-02), a few off Baidu (BD-09).
            roll = rnd.random()
            datum = Datum.GCJ02 if roll < 0.2 else Datum.BD09 if roll < 0.25 else Datum.WGS84
            if datum is not Datum.WGS84:
                given = from_wgs84(to_wgs84(lat, lng, Datum.WGS84), datum)
                point = to_wgs84(round(given[0], 6), round(given[1], 6), datum)
                lat, lng = point.lat, point.lng
            rows.append({
                "code": f"{city}{counters[city]:04d}",
                "name": name,
                "address": address,
                "lat": round(lat, 7),
                "lng": round(lng, 7),
                "datum": str(datum),
                "geofence_m": 300 if channel == Channel.KA else 200,
                "tier": tier,
                "channel": str(channel),
                "dealer": DEALERS[city][0] if channel == Channel.KA else rnd.choice(DEALERS[city]),
                "owner_rep_id": rep_ids[territory.rep],
                "region_id": area_ids[territory.area],
                "active": True,
            })
    return rows


def _products() -> list[dict]:
    rows, numbers = [], {}
    for line in _PRODUCT_TABLE.strip().splitlines():
        prefix, category, price, margin, *name = line.split()
        numbers[prefix] = numbers.get(prefix, 0) + 1
        rows.append({"sku": f"{prefix}-{numbers[prefix]:03d}", "name": " ".join(name), "category": category,
                     "unit_price": int(price), "margin_pct": Decimal(margin), "active": True})
    return rows


def build() -> dict:
    """Create the demo company in the current (empty) database, staged. Returns the counts."""
    regions = {}
    for code, name, parent_code in REGIONS:
        region = Region(code=code, name=name)
        db.session.add(region)
        db.session.flush()
        region.set_parent(regions.get(parent_code))
        regions[code] = region

    # One hash for the one shared password: hashing is deliberately slow, 27 times is seconds.
    password_hash = generate_password_hash(PASSWORD)
    users = {}
    for n, (role, login, name, region_codes, supervisor_login) in enumerate(USERS):
        users[login] = User(login=login, name=name, role=str(role), password_hash=password_hash,
                            supervisor=users.get(supervisor_login), phone=f"139{n + 1:08d}",
                            locale="zh_CN", timezone="Asia/Shanghai", active=True,
                            regions=[regions[c] for c in region_codes])
    db.session.add_all(users.values())
    db.session.flush()

    stores = store_rows({c: r.id for c, r in regions.items()}, {k: u.id for k, u in users.items()})
    db.session.execute(insert(Store), stores)
    products = _products()
    db.session.execute(insert(Product), products)

    ensure_builtin_types()
    visits = build_visit_history([u for u in users.values() if is_rep(u)])
    return {"regions": len(regions), "users": len(users), "stores": len(stores), "products": len(products),
            "visits": visits}


def build_visit_history(reps: list[User], days: int = 28, seed: int = SEED) -> int:
    """Four weeks of completed visits per rep (a few checked in outside the fence or too short),
    three visits planned for today, and some open follow-ups: enough for Today, the team's day
    and the store timelines to show a real picture. Returns the number of visits made."""
    rnd = random.Random(seed + 1)
    zone = ZoneInfo("Asia/Shanghai")
    today = now().astimezone(zone).date()
    types = {vt.code: vt.id for vt in db.session.execute(select(VisitType)).scalars()}
    rows, follow_ups = [], []
    for rep in reps:
        stores = db.session.execute(select(Store).where(Store.owner_rep_id == rep.id)
                                    .order_by(Store.code)).scalars().all()
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            if day.weekday() >= 5:
                continue
            clock = datetime.combine(day, time(9, rnd.randrange(0, 30)), zone)
            for store in rnd.sample(stores, 5):
                dwell = timedelta(minutes=rnd.randint(8, 35))
                flags, reason, offset_m = [], "", rnd.uniform(5, 80)
                if rnd.random() < 0.04:
                    offset_m = rnd.uniform(350, 900)
                    reason = rnd.choice(["门店在装修，在隔壁签到", "定位漂移，实际在店内", "店主在仓库对接"])
                lat = store.lat + offset_m / 111_000 * rnd.choice([-1, 1])
                position = Point(lat, store.lng)
                distance = distance_m(position, store.point)
                if distance > store.geofence_m:
                    flags.append({"code": "outside_geofence", "at": "check_in", "distance_m": round(distance),
                                  "reason": reason})
                if rnd.random() < 0.05:
                    dwell = timedelta(minutes=rnd.randint(1, 4))
                    flags.append({"code": "short_dwell", "minutes": dwell.seconds // 60, "minimum": 10})
                checkin = clock.astimezone(timezone.utc)
                rows.append(dict(rep_id=rep.id, store_id=store.id, visit_type_id=types["routine"], planned_for=day,
                                 status=VisitStatus.COMPLETED, checkin_at=checkin, checkin_lat=position.lat,
                                 checkin_lng=position.lng, checkin_accuracy_m=rnd.randint(8, 40),
                                 checkin_position_at=checkin, checkin_distance_m=distance, checkin_reason=reason,
                                 checkout_at=checkin + dwell, checkout_lat=position.lat, checkout_lng=position.lng,
                                 checkout_accuracy_m=rnd.randint(8, 40), checkout_distance_m=distance,
                                 checkout_reason="", flags=flags, cancel_reason="", created_at=checkin))
                clock += dwell + timedelta(minutes=rnd.randint(15, 50))
        for store in rnd.sample(stores, 3):
            rows.append(dict(rep_id=rep.id, store_id=store.id, visit_type_id=rnd.choice(
                [types["routine"], types["display_audit"], types["order"]]), planned_for=today,
                status=VisitStatus.PLANNED, flags=[], checkin_reason="", checkout_reason="", cancel_reason="",
                planned_by_id=rep.supervisor_id, created_at=now()))
        for store in rnd.sample(stores, 2):
            follow_ups.append(dict(store_id=store.id, text=rnd.choice(
                ["补齐端架陈列的 POSM 物料", "跟进店主的补货需求", "核对上次订单的到货情况", "更换破损的价签"]),
                owner_id=rep.id, due_on=today + timedelta(days=rnd.randint(-2, 5)), status="open",
                created_by_id=rep.id, created_at=now()))
    db.session.execute(insert(Visit), rows)
    db.session.execute(insert(FollowUp), follow_ups)
    return len(rows)
