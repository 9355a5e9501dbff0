# Shared set-up for ./run, ./test and .ci/run. Source it from the repo root:
#     . scripts/bootstrap.sh
# Idempotent and quick when nothing changed: makes .venv with Python 3.11+, installs
# requirements.lock (again only when the lock file changed), compiles translations.
# The app runs from the repo root, so the package itself is not installed.

_field_die() { echo "field: $*" >&2; exit 1; }

_field_python() {
    # The first interpreter that is 3.11 or newer: $PYTHON, then python3, then versioned names.
    local candidate
    for candidate in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

field_bootstrap() {
    local venv=.venv lock=requirements.lock stamp=.venv/.requirements.sha256 py want found

    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        if ! py=$(_field_python); then
            found=$(python3 --version 2>&1 || echo "no python3 on PATH")
            _field_die "needs Python 3.11 or newer (found: $found). Install python3.11+ (e.g. apt-get install python3 python3-venv, or pyenv), or point PYTHON=/path/to/python3.11 at one."
        fi
        rm -rf "$venv"
        echo "field: creating $venv with $($py --version 2>&1)" >&2
        "$py" -m venv "$venv" || _field_die "could not create $venv; on Debian/Ubuntu install the venv module: apt-get install python3-venv"
    fi

    want=$("$venv/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$lock")
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "field: installing $lock into $venv (once; again only when the lock file changes)" >&2
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock" \
            || _field_die "pip install -r $lock failed (see above)"
        echo "$want" > "$stamp"
    fi

    # Compile catalogs whose .mo is missing or older than the .po; nothing to do without catalogs.
    if [ -d field/translations ]; then
        local po stale=0
        while IFS= read -r po; do
            if [ ! -f "${po%.po}.mo" ] || [ "$po" -nt "${po%.po}.mo" ]; then stale=1; fi
        done < <(find field/translations -name '*.po' -path '*/LC_MESSAGES/*')
        if [ "$stale" = 1 ]; then
            "$venv/bin/pybabel" compile -f -d field/translations \
                || _field_die "pybabel compile failed (see above)"
        fi
    fi
}
