"""The Chinese catalog: it compiles, it translates every message in the template with the same
placeholders, and a Chinese phone actually gets Chinese pages.

Babel reads our "zh_CN" as zh_Hans_CN, and gettext then looks in zh_Hans_CN/ and zh/; a catalog
under zh_CN/ would never be found, so these tests read zh/ and render real pages."""
import gettext
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import PYTHON_FORMAT
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from field.extensions import db

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "field" / "translations"
POT = TRANSLATIONS / "messages.pot"
ZH_PO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
HAN = re.compile(r"[\u4e00-\u9fff]")


def _read(path: Path):
    with path.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def template():
    return _read(POT)


@pytest.fixture(scope="module")
def zh():
    return _read(ZH_PO)


def _key(message):
    return message.id[0] if isinstance(message.id, tuple) else message.id


def _strings(message) -> tuple:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _placeholders(text: str) -> set[tuple[str, str]]:
    return {(name, kind) for name, _flags, kind in PYTHON_FORMAT.findall(text) if kind != "%"}


def test_the_catalog_compiles_without_errors(zh):
    problems = [(_key(m), [str(e) for e in errors]) for m, errors in zh.check()]
    assert problems == []
    mo = BytesIO()
    write_mo(mo, zh)
    mo.seek(0)
    compiled = gettext.GNUTranslations(mo)
    assert compiled.gettext("Sign in") == "登录"
    assert compiled.ngettext("%(num)s store", "%(num)s stores", 3) == "%(num)s 家门店"


def test_chinese_has_one_plural_form(zh):
    assert zh.num_plurals == 1
    for message in zh:
        if message.pluralizable:
            assert len(_strings(message)) == 1, _key(message)


def test_every_message_in_the_template_has_a_chinese_translation(template, zh):
    missing, fuzzy = [], []
    for message in template:
        if not message.id:
            continue
        translated = zh.get(_key(message))
        if translated is None or not all(s.strip() for s in _strings(translated)):
            missing.append(_key(message))
        elif translated.fuzzy:
            fuzzy.append(_key(message))
    assert missing == [], "run scripts/i18n.sh extract and translate these"
    assert fuzzy == [], "check these fuzzy translations and remove the fuzzy flag"


def test_the_template_holds_every_message_the_code_uses(template, tmp_path):
    """A message added to the code but never extracted would show in English to Chinese users
    while every check above still passed: extract afresh and compare."""
    from babel.messages.frontend import CommandLineInterface
    fresh = tmp_path / "fresh.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
                                "-k", "lazy_gettext", "-o", str(fresh), str(ROOT / "field"), str(ROOT / "templates")])
    in_code = {_key(m) for m in _read(fresh) if m.id}
    in_template = {_key(m) for m in template if m.id}
    assert sorted(in_code - in_template) == [], "run scripts/i18n.sh extract and translate the new messages"


def test_translations_are_chinese(zh):
    # Codes, units and formats may stay as they are; anything else in Latin letters was forgotten.
    english = [_key(m) for m in zh if m.id and not any(HAN.search(s) for s in _strings(m))
               and re.search(r"[A-Za-z]{3,}", re.sub(PYTHON_FORMAT, "", _strings(m)[0]))
               and _key(m) not in {"SKU", "Export CSV", "Export Excel", "WGS-84 (GPS)"}]
    assert english == []


def test_placeholders_match_and_format(zh):
    wrong = []
    for message in zh:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        # nplurals=1: the one Chinese form serves every count, so it carries the plural's names.
        expected = set().union(*(_placeholders(i) for i in ids))
        for string in _strings(message):
            if _placeholders(string) != expected:
                wrong.append((_key(message), string))
                continue
            values = {name: 1 if kind in "di" else "x" for name, kind in expected}
            if expected or "python-format" in message.flags:
                try:
                    string % values
                except (KeyError, ValueError, TypeError) as exc:
                    wrong.append((_key(message), f"{string} ({exc})"))
    assert wrong == []


def test_a_chinese_phone_gets_a_chinese_login_page(client):
    html = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert ">登录</button>" in html, "no Chinese: is the catalog compiled (scripts/i18n.sh compile)?"
    assert "Sign in" not in html


def test_an_english_phone_keeps_english(client):
    html = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert ">Sign in</button>" in html and "登录" not in html


def test_a_user_who_chose_chinese_sees_chinese_navigation(client, org):
    org.rep.locale = "zh_CN"
    db.session.commit()
    html = client.login_as(org.rep).get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "今日" in html and "门店" in html
    assert ">Stores<" not in html and ">Today<" not in html


def test_a_chinese_form_error_is_chinese(client, rep):
    r = client.post("/login", data={"login": rep.login, "password": "wrong"},
                    headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 422
    assert "账号或密码错误。" in r.get_data(as_text=True)
