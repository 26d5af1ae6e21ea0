"""``jsonapi`` is the protocol only (ARCHITECTURE.md, "The house"): it imports no domain
package, nor the pipeline that serves it. Checked on the source, every import statement
(including those under ``if TYPE_CHECKING:`` and inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import inquicker.jsonapi

FORBIDDEN = (
    "inquicker.tenancy",
    "inquicker.db",
    "inquicker.settings",
    "inquicker.booking",
    "inquicker.catalog",
    "inquicker.availability",
    "inquicker.web",
)
PACKAGE = Path(inquicker.jsonapi.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module an import statement of ``path`` names (``from a import b`` names ``a``
    and ``a.b``, as ``b`` may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            assert node.level == 0, f"{path.name}: relative import"
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_every_module_is_checked() -> None:
    assert len(MODULES) > 15
    assert {"routing.py", "resource_routes.py", "openapi.py", "handlers.py"} <= {
        m.name for m in MODULES
    }


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_jsonapi_imports_no_domain_and_no_pipeline(path: Path) -> None:
    assert sorted(n for n in imported(path) if forbidden(n)) == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from inquicker.tenancy.resolve import Tenant\n"
        "def f():\n"
        "    import inquicker.db.engine\n"
        "from inquicker import settings\n"
    )
    found = sorted(n for n in imported(sample) if forbidden(n))
    assert "inquicker.db.engine" in found and "inquicker.settings" in found
    assert "inquicker.tenancy.resolve" in found
