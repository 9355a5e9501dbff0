"""Names in a running sentence, the reader's way: what visits' messages and pages list."""
from babel.lists import format_list
from flask_babel import get_locale


def word_list(words) -> str:
    """Names in a running sentence, the reader's way: 'A, B, and C' / 'A、B和C'."""
    words = [str(w) for w in words]
    return format_list(words, locale=get_locale() or "zh_CN") if words else ""
