#!/usr/bin/env bash
# Translations. Run from anywhere:
#     scripts/i18n.sh extract   collect msgids from field/ and templates/ into messages.pot,
#                               then merge them into each catalog (zh is created the first time)
#     scripts/i18n.sh check     count untranslated and fuzzy messages; non-zero exit if any
#     scripts/i18n.sh compile   compile every .po into its .mo (./run and ./test do this too)
# Babel reads our "zh_CN" as zh_Hans_CN, and gettext then looks in zh_Hans_CN/ and zh/;
# so the Chinese catalog lives in field/translations/zh/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh
field_bootstrap

DIR=field/translations
POT=$DIR/messages.pot
LANGS=(zh)

extract() {
    mkdir -p "$DIR"
    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --project field --copyright-holder "the field authors" \
        -o "$POT" field templates
    local lang
    for lang in "${LANGS[@]}"; do
        if [ -f "$DIR/$lang/LC_MESSAGES/messages.po" ]; then
            # No fuzzy guesses: a guess whose placeholders differ makes `pybabel compile` fail,
            # and that stops ./run and ./test; a new msgid stays empty (shown in English) instead.
            .venv/bin/pybabel update -i "$POT" -d "$DIR" -l "$lang" --ignore-obsolete --no-fuzzy-matching
        else
            .venv/bin/pybabel init -i "$POT" -d "$DIR" -l "$lang"
        fi
    done
}

check() {
    # Counts per catalog against the template: a msgid missing from the catalog counts as
    # untranslated, so a catalog that was never updated fails the check too.
    .venv/bin/python - "$POT" "${LANGS[@]/#/$DIR/}" <<'PY'
import sys
from babel.messages.pofile import read_po

pot_path, *lang_dirs = sys.argv[1:]
with open(pot_path, "rb") as f:
    template = read_po(f)
wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
failed = False
for lang_dir in lang_dirs:
    po_path = f"{lang_dir}/LC_MESSAGES/messages.po"
    with open(po_path, "rb") as f:
        catalog = read_po(f)
    untranslated, fuzzy = [], []
    for key in sorted(wanted):
        message = catalog.get(key)
        strings = () if message is None else (
            message.string if isinstance(message.string, (list, tuple)) else (message.string,))
        if message is None or not all(strings):
            untranslated.append(key)
        elif message.fuzzy:
            fuzzy.append(key)
    print(f"{po_path}: {len(wanted)} messages, {len(untranslated)} untranslated, {len(fuzzy)} fuzzy")
    for label, keys in (("untranslated", untranslated), ("fuzzy", fuzzy)):
        for key in keys:
            print(f"  {label}: {key!r}")
    failed = failed or bool(untranslated or fuzzy)
sys.exit(1 if failed else 0)
PY
}

compile_catalogs() {
    .venv/bin/pybabel compile -f -d "$DIR"
}

case "${1:-}" in
    extract) extract ;;
    check) check ;;
    compile) compile_catalogs ;;
    *) echo "usage: scripts/i18n.sh extract|check|compile" >&2; exit 2 ;;
esac
