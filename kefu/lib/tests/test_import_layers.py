"""The import direction of docs/architecture.md holds for every import, inside functions too.

The order is written once, in the documentation; the import-linter contract in pyproject.toml must
say the same (checked here), and ``lint-imports`` checks the code against the contract.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def documented_layers() -> list[set[str]]:
    """The "Import direction" line of docs/architecture.md, lowest layer first."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Import direction", 1)[1]
    chain = section.strip().split("\n\n", 1)[0]
    return [set(re.findall(r"`(\w+)`", part)) for part in chain.split("←")]


def contract_layers() -> list[set[str]]:
    """The layers contract of pyproject.toml, lowest layer first."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers")
    return [
        {name.strip().removeprefix("kefu.") for name in layer.split("|")}
        for layer in reversed(contract["layers"])
    ]


def run_lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contract_is_the_documented_order():
    assert contract_layers() == documented_layers()


def test_every_app_has_its_place_in_the_order():
    apps = {path.parent.name for path in (ROOT / "kefu").glob("*/__init__.py")}
    placed = set().union(*documented_layers())
    assert apps - {"locale"} == placed


# A lower page that shows a higher app's data asks kefu.lib.panels (issue 20 removed the last five
# exceptions); a new need gets a registry, never an entry here.
KNOWN_EXCEPTIONS: set[str] = set()


def test_no_exception_joins_the_known_ones():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers")
    exceptions = set(contract["ignore_imports"]) - {"kefu.*.tests.** -> kefu.**"}
    assert exceptions <= KNOWN_EXCEPTIONS


def test_every_import_follows_the_contract():
    result = run_lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_import_inside_a_function_against_the_order_is_caught(tmp_path):
    package = tmp_path / "shop"
    (package / "low").mkdir(parents=True)
    (package / "high").mkdir()
    for path in (package, package / "low", package / "high"):
        (path / "__init__.py").write_text("")
    (package / "high" / "views.py").write_text("from shop.low import models\n")
    (package / "low" / "models.py").write_text("def late():\n    from shop.high import views\n")
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_package = shop\n\n"
        "[importlinter:contract:layers]\nname = layers\ntype = layers\n"
        "layers =\n    shop.high\n    shop.low\n"
    )
    result = run_lint_imports(tmp_path)
    assert result.returncode == 1
    assert "shop.low.models -> shop.high.views" in result.stdout
