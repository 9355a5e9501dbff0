"""The shape of field/: layers import downward, one place commits, only permissions and scope compare roles.

Read from the source with `ast` (every import, including those inside functions), so a failure lists
each offending file:line. The layer order is data below (LAYERS), quoted by the README."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIELD = ROOT / "field"
TEMPLATES = ROOT / "templates"

CORE = ("core", "geo", "web", "extensions", "config", "tabular", "audit", "providers", "transaction", "errors",
        "nav", "i18n", "security")
"""Core-level modules (field/<name>.py): shared tools that import no domain at all."""

CORE_MAY_IMPORT = {"nav": ("auth",)}
"""The exceptions: the navigation reads the roles' tabs from auth."""

BESIDE_CORE = ("scope", "permissions")
"""What a user may see and do: beside core, they may import a domain's *models* (field.<domain>.models), nothing
else of a domain."""

LAYERS = (
    ("auth",),
    ("notifications",),
    ("dealers",),
    ("stores", "products"),
    ("sales",),
    ("targets",),
    ("visits",),
    ("photos",),
    ("activities",),
    ("claims",),
    ("roi",),
    ("workday", "incentives", "channel", "competitors"),
    ("home", "admin", "app_shell", "alerts"),
)
"""The domains (field/<domain>/), lowest first. A domain may import core, scope, permissions, itself and any
domain of an EARLIER line; never one of its own line (stores and products are siblings, as are home and admin)
nor a later one, not even inside a function. Where a lower page must show what a higher domain knows, the higher
one registers a provider (field/providers.py)."""

COMPOSITION_ROOT = ("__init__", "cli", "models", "demo*")
"""field/__init__.py (create_app), field/cli.py, field/models.py and field/demo*.py wire everything together:
they may import anything, and nothing below them may import them."""

RANK = {domain: n for n, line in enumerate(LAYERS, start=1) for domain in line}
TOP = len(LAYERS) + 1


def modules() -> list[Path]:
    return sorted(p for p in FIELD.rglob("*.py") if "translations" not in p.parts)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def dotted(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_root(name: str) -> bool:
    return any(re.fullmatch(pattern.replace("*", ".*"), name) for pattern in COMPOSITION_ROOT)


def place(module: str) -> tuple[str, str] | None:
    """What a field module is: ("root"|"core"|"beside"|"domain", its name); None when unknown."""
    parts = module.split(".")
    if parts[0] != "field":
        return None
    if len(parts) == 1:
        return ("root", "__init__")
    name = parts[1]
    if name in RANK:
        return ("domain", name)
    if name in CORE:
        return ("core", name)
    if name in BESIDE_CORE:
        return ("beside", name)
    if is_root(name):
        return ("root", name)
    return None


def imports(path: Path):
    """(line, imported module, what it names) for every import in the file, wherever it stands.
    `from field import scope` imports field.scope; `from field import locale_code` imports field (the
    composition root) and names field.locale_code."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = dotted(path) if path.name == "__init__.py" else dotted(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                is_module = (ROOT / Path(*candidate.split("."))).with_suffix(".py").exists() or \
                    (ROOT / Path(*candidate.split(".")) / "__init__.py").exists()
                yield node.lineno, candidate if is_module else module, candidate


def why_not(importer: tuple[str, str], imported_module: str) -> str | None:
    """Why `importer` may not import `imported_module` (None: it may)."""
    target = place(imported_module)
    if target is None:
        return None  # not field's
    kind, name = importer
    t_kind, t_name = target
    if kind == "root":
        return None
    if t_kind == "root":
        return f"imports from the composition root {imported_module}"
    if t_kind in ("core", "beside"):
        return None
    # the target is a domain
    if kind == "core":
        return None if t_name in CORE_MAY_IMPORT.get(name, ()) else f"core module imports domain {t_name}"
    if kind == "beside":
        allowed = imported_module == f"field.{t_name}.models" or imported_module.startswith(f"field.{t_name}.models.")
        return None if allowed else f"{name} may import only a domain's models, not {imported_module}"
    if t_name == name:
        return None
    if RANK[t_name] < RANK[name]:
        return None
    if RANK[t_name] == RANK[name]:
        return f"{name} imports its sibling {t_name}"
    return f"{name} (layer {RANK[name]}) imports higher {t_name} (layer {RANK[t_name]})"


def test_every_module_has_a_layer():
    unknown = [rel(p) for p in modules() if place(dotted(p)) is None]
    assert not unknown, ("modules in no layer; add them to CORE, BESIDE_CORE, LAYERS or COMPOSITION_ROOT in "
                         "tests/unit/test_layers.py:\n  " + "\n  ".join(unknown))


def test_layers_import_only_downward():
    violations = []
    for path in modules():
        importer = place(dotted(path))
        if importer is None:
            continue
        for line, module, named in sorted(set(imports(path))):
            reason = why_not(importer, module)
            if reason:
                violations.append(f"{rel(path)}:{line}: {reason} ({module if module.count('.') > 1 else named})")
    violations = list(dict.fromkeys(violations))  # `from x import a, b` is one line
    assert not violations, (f"{len(violations)} upward imports (see LAYERS in tests/unit/test_layers.py):\n  "
                            + "\n  ".join(violations))


# --- one transaction per request ------------------------------------------------------------------

COMMITTERS = ("field/transaction.py",)
"""The only module that calls db.session.commit()."""

COMMANDS = ("field/cli.py", "field/demo*.py", "field/*/cli.py", "field/notifications/jobs.py")
"""CLI commands (field/cli.py, a domain's cli.py), the demo seed and the notification worker's jobs end their
unit of work with transaction.commit(); nothing else commits."""


def commit_call(node: ast.AST) -> str | None:
    """'session' for db.session.commit() (or any session's commit), 'transaction' for transaction.commit()."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"):
        return None
    receiver = node.func.value
    if isinstance(receiver, ast.Attribute) and receiver.attr == "session":
        return "session"
    if isinstance(receiver, ast.Name) and "session" in receiver.id:
        return "session"
    if isinstance(receiver, ast.Name) and receiver.id == "transaction":
        return "transaction"
    return None


def test_only_the_transaction_module_commits():
    violations = []
    for path in modules():
        name = rel(path)
        if name in COMMITTERS:
            continue
        is_command = any(re.fullmatch(pattern.replace(".", r"\.").replace("*", ".*"), name) for pattern in COMMANDS)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in sorted(ast.walk(tree), key=lambda n: getattr(n, "lineno", 0)):
            kind = commit_call(node)
            if kind == "session" or (kind == "transaction" and not is_command):
                violations.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    assert not violations, (f"{len(violations)} commits outside field/transaction.py (operations stage; the request, "
                            "or a CLI command through transaction.commit(), commits once):\n  " + "\n  ".join(violations))


# --- roles are compared in one place ----------------------------------------------------------------

ROLE_RULES = ("field/permissions.py", "field/scope.py")
"""The only modules that compare roles. Elsewhere Role.X may be *assigned* (User(role=Role.ADMIN)) or used as a
key of a table (nav's tabs, role labels), never compared."""

SQL_COMPARISONS = {"in_", "not_in", "notin_", "is_", "is_not", "isnot", "__eq__", "__ne__"}


def mentions_role(node: ast.AST) -> bool:
    """`x.role` or `Role.X` anywhere in the expression."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and (sub.attr == "role" or (
                isinstance(sub.value, ast.Name) and sub.value.id == "Role")):
            return True
    return False


def role_comparisons(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(mentions_role(side) for side in (node.left, *node.comparators)):
            yield node
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in SQL_COMPARISONS and mentions_role(node.func.value)):
            yield node


def test_only_permissions_and_scope_compare_roles():
    violations = []
    for path in modules():
        if rel(path) in ROLE_RULES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        violations += [f"{rel(path)}:{node.lineno}: {ast.unparse(node)}"
                       for node in sorted(role_comparisons(tree), key=lambda n: n.lineno)]
    assert not violations, (f"{len(violations)} role comparisons outside permissions.py and scope.py (ask a may_* "
                            "check, or scope.reps()/scope.supervisors() in SQL):\n  " + "\n  ".join(violations))


TEMPLATE_ROLE = re.compile(r"\bRole\.\w+"                                             # Role.REP
                           r"|(?<![\w.])(?:\w+\.)*role\s*(?:==|!=|not\s+in\b|in\b)"      # x.role ==, role in
                           r"|(?:==|!=)\s*(?:\w+\.)+role\b")                               # 'rep' == x.role


def test_templates_ask_may_instead_of_comparing_roles():
    violations = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            found = [m.group(0).strip() for m in TEMPLATE_ROLE.finditer(text)]
            if found:
                violations.append(f"{rel(path)}:{n}: {', '.join(found)}")
    assert not violations, (f"{len(violations)} role comparisons in templates (ask `may.<check>()`):\n  "
                            + "\n  ".join(violations))


# --- the checks above catch what they should ---------------------------------------------------------

def test_the_role_check_tells_a_comparison_from_an_assignment():
    code = ("User(role=Role.ADMIN)\nuser.role = Role.REP\nTABS = {Role.REP: []}\n"
            "a = user.role == Role.REP\nb = current_user.role in EDITORS\nc = User.role.in_([Role.REP])\n"
            "d = role != Role.ADMIN\n")
    assert [node.lineno for node in role_comparisons(ast.parse(code))] == [4, 5, 6, 7]


def test_the_template_check_sees_every_spelling():
    lines = ["{% if current_user.role == Role.REP %}", "{% if role == Role.REP %}", "{% if u.role != 'rep' %}",
             "{% if current_user.role in ('rep',) %}", "{% if 'rep' == u.role %}",
             "{{ role_label(current_user.role) }}", "{% if may.review() %}",
             "{% if r.value == role %} selected{% endif %}"]   # the users list's role filter: not a rule
    assert [bool(TEMPLATE_ROLE.search(line)) for line in lines] == [True] * 5 + [False] * 3


def test_the_commit_check_sees_a_session_under_another_name():
    code = ("db.session.commit()\nsession = db.session()\nsession.commit()\ntransaction.commit()\n"
            "db.session.flush()\nrepo.commit()\n")
    kinds = [commit_call(node.value) for node in ast.parse(code).body if isinstance(node, ast.Expr)]
    assert kinds == ["session", "session", "transaction", None, None]


def test_the_layer_check_reads_the_order():
    assert why_not(("domain", "visits"), "field.stores.models") is None
    assert why_not(("domain", "stores"), "field.visits.planning") is not None
    assert why_not(("domain", "stores"), "field.products.models") is not None     # siblings
    assert why_not(("domain", "home"), "field.roi.queries") is None
    assert why_not(("core", "web"), "field.auth.models") is not None
    assert why_not(("core", "nav"), "field.auth.models") is None
    assert why_not(("beside", "scope"), "field.visits.models") is None
    assert why_not(("beside", "permissions"), "field.visits.planning") is not None
    assert why_not(("domain", "auth"), "field") is not None                       # the composition root
    assert why_not(("root", "cli"), "field.home.views") is None
