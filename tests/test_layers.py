"""The package's layers only point down (pyproject.toml [tool.importlinter]): no domain imports a module above it,
and the life-cycle kernel is the only writer of the history."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
ROUTES_COVERED: set = set()  # no route here


def test_no_module_imports_a_layer_above_it(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exit_code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert exit_code == 0, capsys.readouterr().out


def _writes_history(path: Path) -> bool:
    text = path.read_text()
    if re.search(r"(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?history_entry\b", text, re.IGNORECASE):
        return True  # raw SQL
    tree = ast.parse(text)
    for node in ast.walk(tree):
        # HistoryEntry.insert(...), HistoryEntry(...).save(), HistoryEntry.update/delete(...)
        if isinstance(node, ast.Attribute) and node.attr in {"insert", "update", "delete"}:
            if isinstance(node.value, ast.Name) and node.value.id == "HistoryEntry":
                return True
    return False


def test_only_the_kernel_writes_the_history():
    writers = sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / "tracker").rglob("*.py") if _writes_history(path)
    )
    # The benchmark bulk-loads a synthetic history into its own database (never the application's).
    assert set(writers) - {"tracker/bench.py"} == {"tracker/lifecycle/kernel.py"}
