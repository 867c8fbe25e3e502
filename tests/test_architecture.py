"""The layer rules are real: every module of src/ is under an import-linter contract, the
contracts report a forbidden import, and docs/architecture.md's import table is the code's."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "jobimport"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def modules() -> list[str]:
    """Every module of the package, dotted (packages by their own name)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def contract_names() -> set[str]:
    """Every module a contract names: as a source, a forbidden target, a layer or an
    independent module (layers inside a container are prefixed with it)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    named: set[str] = set()
    for contract in config["contracts"]:
        named.update(contract.get("source_modules", []), contract.get("forbidden_modules", []))
        named.update(contract.get("modules", []))
        containers = contract.get("containers") or [""]
        for layer in contract.get("layers", []):
            for name in re.split(r"[|:]", layer):
                for container in containers:
                    named.add(f"{container}.{name.strip()}" if container else name.strip())
    return named


def test_every_module_is_under_a_contract() -> None:
    named = contract_names()
    outside = [
        module
        for module in modules()
        if module != "jobimport"  # the root package only holds __version__
        and not any(module == n or module.startswith(n + ".") for n in named)
    ]
    assert not outside, f"modules outside every import-linter contract: {outside}"


def test_every_module_a_contract_names_exists() -> None:
    ours = {n for n in contract_names() if n.startswith("jobimport")}
    assert ours <= set(modules()), f"contracts name missing modules: {ours - set(modules())}"


# Imports that each break a different contract, written into a copy of the package.
FORBIDDEN = {
    "pipeline.py": ("jobimport.store.sqlite.runs", "only the store's factory imports a backend"),
    "reader/parse.py": ("jobimport.pipeline", "layers"),
    "store/mongo/runs.py": ("jobimport.store.sqlite.queries", "store backends are independent"),
    "web/api/jobs.py": ("jobimport.web.admin.views", "the API does not import the admin pages"),
    "queue/names.py": ("jobimport.queue.worker", "queue: the worker over the tasks"),
    "scheduler.py": ("jobimport.cli", "nothing imports the entry points"),
}


def test_the_contracts_report_a_forbidden_import(tmp_path: Path) -> None:
    copy = tmp_path / "src" / "jobimport"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for relative, (target, _contract) in FORBIDDEN.items():
        with (copy / relative).open("a") as module:
            module.write(f"\nimport {target}  # a forbidden import, for the test\n")
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = result.stdout
    assert result.returncode == 1, report + result.stderr
    for relative, (target, contract) in FORBIDDEN.items():
        importer = "jobimport." + relative.removesuffix(".py").replace("/", ".")
        assert re.search(rf"^{re.escape(contract)}.* BROKEN$", report, re.M), contract
        assert f"{importer} -> {target}" in report, (importer, target)


def test_the_real_package_keeps_every_contract() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


def unit_imports() -> dict[str, set[str]]:
    """For each top-level module or package: the other top-level units of ours it imports
    (`jobimport` for the root package's `__version__`)."""
    units = {m.split(".")[1] for m in modules() if m != "jobimport"}
    imports: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        unit = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if unit == "__init__":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
                if node.module == "jobimport":
                    names = [f"jobimport.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] != "jobimport":
                    continue
                other = parts[1] if len(parts) > 1 and parts[1] in units else "jobimport"
                if other != unit:
                    imports[unit].add(other)
    return {unit: imports[unit] for unit in units}


def documented_imports() -> dict[str, set[str]]:
    """The table under "## Modules and layers" in docs/architecture.md: a row per unit, its
    imports of ours as `code` names in the third column (— for none)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Modules and layers", 1)[1].split("\n## ", 1)[0]
    table: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        unit = cells[0].strip("`").removesuffix("/")
        table[unit] = {name.removesuffix("/") for name in re.findall(r"`([^`]+)`", cells[2])}
    return table


def test_the_architecture_table_lists_every_unit_with_its_real_imports() -> None:
    assert documented_imports() == unit_imports()
