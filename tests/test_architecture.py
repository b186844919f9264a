"""Rules of the code base that a reviewer would otherwise have to remember.

- Only services set `status` (as Zulip enforces its own rule for is_active):
  no assignment to `.status` and no `status=` in `.update()`/`.create()` calls
  outside `services.py` / `services/` modules, migrations and tests.
- Tasks do not call `.delay()`/`.apply_async()` outside `transaction.on_commit`
  callbacks or task modules (the worker could run before the commit).
- The apps are layered (pyproject.toml's [tool.importlinter], docs/architecture.md):
  treasury_portal < accounts < payments < vouchers < autopay < (monitoring |
  integrations); a lower app never imports a higher one.
- Tests too: autopay sits above vouchers (issue 15): accounts, payments and vouchers,
  tests included, never import it (it plugs into them from its AppConfig.ready).
"""

import ast
import copy
import subprocess
import sys
from pathlib import Path

import grimp
from importlinter import api as importlinter_api
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parent.parent
APPS = ["accounts", "vouchers", "payments", "autopay", "monitoring", "integrations", "treasury_portal"]


def _python_files() -> list[Path]:
    files = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel or "/tests/" in rel:
                continue
            files.append(path)
    return files


# The workflow engine is the services' one writer of `status` (Workflow.move):
# only services call it.
STATUS_WRITERS = {"treasury_portal/workflow.py"}


def _is_service_module(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return rel.endswith("/services.py") or "/services/" in rel or rel in STATUS_WRITERS


def _status_writes(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    lines.append(node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"update", "bulk_update"}
        ):
            if any(kw.arg == "status" for kw in node.keywords):
                lines.append(node.lineno)
    return lines


def test_scanner_finds_status_writes():
    """The check itself can fail: it sees the writes it must forbid."""
    tree = ast.parse("v.status = 'paid'\nVoucher.objects.filter(pk=1).update(status='paid')\n")
    assert _status_writes(tree) == [1, 2]


def test_only_services_set_status():
    offenders = []
    for path in _python_files():
        if _is_service_module(path):
            continue
        for line in _status_writes(ast.parse(path.read_text(), filename=str(path))):
            offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert not offenders, "status is set outside a service module: " + ", ".join(offenders)


def test_no_delay_inside_service_transactions():
    """Services queue tasks only from on_commit callbacks (a lambda or a named
    function passed to transaction.on_commit), never inline."""
    offenders = []
    for path in _python_files():
        if not _is_service_module(path):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for func in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            # A helper whose name starts with "_queue" is only ever passed to on_commit.
            if func.name.startswith("_queue") or func.name.startswith("_enqueue"):
                continue
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"delay", "apply_async"}
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} in {func.name}")
    assert not offenders, "task queued outside an on_commit helper: " + ", ".join(offenders)


# --- the apps' layers -------------------------------------------------------------


def _layers_contract() -> tuple[LayersContract, list[str]]:
    config = importlinter_api.read_configuration(str(ROOT / "pyproject.toml"))
    (options,) = [c for c in config["contracts_options"] if c["id"] == "apps-layers"]
    contract = LayersContract(
        name=options["name"], session_options=config["session_options"], contract_options=options
    )
    return contract, config["session_options"]["root_packages"]


def test_apps_are_layered():
    """`lint-imports` (as `make test` runs it) keeps every contract of pyproject.toml."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_layers_contract_catches_an_upward_import():
    """The contract itself can fail: the repository's graph plus one import of a
    higher app by a lower one breaks it, and names that import."""
    contract, roots = _layers_contract()
    graph = grimp.build_graph(*roots, cache_dir=None)
    # A check removes the ignored imports from the graph it is given: each gets a copy.
    assert contract.check(copy.deepcopy(graph), verbose=False).kept

    for importer, imported in [
        ("payments.models", "vouchers.models"),
        ("accounts.models", "payments.models"),
        ("treasury_portal.errors", "accounts.models"),
        ("vouchers.models", "monitoring.models"),
        ("monitoring.models", "integrations.models"),  # siblings at the top are independent
        ("vouchers.models", "autopay.models"),
        ("autopay.models", "monitoring.models"),
    ]:
        upward = copy.deepcopy(graph)
        upward.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
        check = contract.check(upward, verbose=False)
        assert not check.kept, f"{importer} -> {imported} passed the layers contract"
        assert importer in repr(check.metadata), check.metadata
def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_scanner_finds_imports():
    tree = ast.parse("import autopay.models\nfrom autopay import services\ndef f():\n    from autopay.x import y\n")
    assert [m for _line, m in _imported_modules(tree)] == ["autopay.models", "autopay", "autopay.x"]


def test_the_apps_below_autopay_never_import_it():
    offenders = []
    for app in ("accounts", "payments", "vouchers"):
        for path in (ROOT / app).rglob("*.py"):
            for line, module in _imported_modules(ast.parse(path.read_text(), filename=str(path))):
                if module == "autopay" or module.startswith("autopay."):
                    offenders.append(f"{path.relative_to(ROOT)}:{line} {module}")
    assert not offenders, "imports autopay from below it: " + ", ".join(offenders)
