"""The language and time zone in force for a request: the user's choice, the session's, the browser's."""
from flask import request, session
from flask_babel import get_locale
from flask_login import current_user

from field.core import user_zone


def select_locale():
    languages = ["zh_CN", "en"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    match = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if match is None:
        return None  # BABEL_DEFAULT_LOCALE
    return "en" if match == "en" else "zh_CN"


def locale_code() -> str:
    """The language in force as our own code ("zh_CN" or "en"); Babel spells Chinese zh_Hans_CN."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def html_lang() -> str:
    return "zh-CN" if locale_code() == "zh_CN" else "en"


def select_timezone() -> str:
    """Times are shown in the signed-in user's zone (core.user_zone: theirs, else the company's)."""
    signed_in = current_user if current_user and current_user.is_authenticated else None
    return user_zone(signed_in).key
