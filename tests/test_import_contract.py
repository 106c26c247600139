"""The import contract: index/geo stands alone, index/ never imports the web app, and the
survey domain imports neither Flask nor the search domain (checked on the source, with ast)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("index", "search_app", "surveys", "tests", "tools")


def module_name(path: Path) -> str:
    """Return the dotted module name of a source file under the repository root."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, is_package: bool = False) -> list[str]:
    """Return the absolute names a module's source imports (relative imports resolved)."""
    package = module if is_package else module.rpartition(".")[0]
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names += [f"{base}.{alias.name}" for alias in node.names]
    return names


def is_under(name: str, package: str) -> bool:
    """Tell whether a dotted name is the package or inside it."""
    return name == package or name.startswith(package + ".")


def broken_rules(name: str, module: str) -> list[str]:
    """Return the rules an import of `name` from `module` breaks (empty: allowed)."""
    top = name.split(".")[0]
    broken = []
    if is_under(module, "index.geo") and top in PROJECT and not is_under(name, "index.geo"):
        broken.append("index/geo imports only itself of the project")
    if is_under(module, "index") and top == "search_app":
        broken.append("index/ does not import search_app")
    if is_under(module, "surveys") and (top == "index" or top.startswith("flask")):
        broken.append("surveys/ imports neither Flask nor index/")
    return broken


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Return 'module imports name: rule' for every import of a source that breaks a rule."""
    return [
        f"{module} imports {name}: {rule}"
        for name in imported(source, module, is_package)
        for rule in broken_rules(name, module)
    ]


def sources(folder: str) -> list[Path]:
    """Return the Python files under a top-level folder."""
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("from index.searcher import Searcher", "index.geo.geocoder"),
        ("from index import searcher", "index.geo.geocoder"),
        ("from .. import searcher", "index.geo.geocoder"),
        ("import surveys.models", "index.geo.gazetteer"),
        ("from search_app import db", "index.sync"),
        ("def f():\n    import search_app.search", "index.searcher"),
        ("from flask import current_app", "surveys.campaigns"),
        ("import flask_babel", "surveys.letters"),
        ("from index.geo.gazetteer import municipalities", "surveys.dashboard"),
    ],
)
def test_the_checker_reports_a_broken_rule(source, module):
    assert violations(source, module)


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("from index.geo import gazetteer as gz", "index.geo.romaji"),
        ("from . import gazetteer", "index.geo.romaji"),
        ("import numpy as np\nfrom geopy.geocoders.base import Geocoder", "index.geo.locators"),
        ("from index.geo.distance import haversine_np", "index.coverage"),
        ("from surveys.listings import accepts", "index.coverage"),
        ("from surveys.places import Municipality", "surveys.campaigns"),
    ],
)
def test_the_checker_allows_what_the_rules_allow(source, module):
    assert violations(source, module) == []


def test_the_source_keeps_the_import_contract():
    files = [*sources("index"), *sources("surveys")]
    assert len([f for f in files if is_under(module_name(f), "index.geo")]) >= 8
    found = [
        problem
        for path in files
        for problem in violations(
            path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py"
        )
    ]
    assert found == []


def test_importing_the_geography_loads_no_other_project_module():
    code = (
        "import importlib, json, pkgutil, sys, index.geo\n"
        "for m in pkgutil.iter_modules(index.geo.__path__, 'index.geo.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in {PROJECT!r})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(out)
    assert "index.geo.geocoder" in loaded
    assert [n for n in loaded if n != "index" and not is_under(n, "index.geo")] == []
