"""Convert t("日本語", "English") pairs into gettext calls and collect the English catalogue.

Run from the project root (re-runnable: converted files have nothing left to convert):

    .venv/bin/python -m search_app.i18n_convert [--dry-run] [--no-ruff] PATH...

PATH is a template, a Python file or a folder. Each pair becomes `_("日本語")` (`pgettext` when
the pair has `context="..."`, `lazy_gettext` where Python runs it at import time) and its English
goes into translations/en/LC_MESSAGES/messages.po (merged; the .mo is recompiled). Values become
named placeholders shared by both languages: t("%d件"|format(n), "%d found"|format(n)) becomes
_("%(n)d件", n=n); f-strings, `"..." % x` and `"...".format(x)` likewise. Templates escape every
literal % as %% (Jinja's gettext always formats). What it cannot convert safely (text that is not
a literal, a Japanese text whose English differs from the catalogue's, ...) is left untouched and
reported, and the exit status is then 1. Changed Python files get `ruff check --select I --fix`
and `ruff format` when ruff is in the same environment.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog

from search_app.i18n_convert.catalogue import PO_PATH, known_pairs, load_catalog, merge, save
from search_app.i18n_convert.messages import Known, Pair, Result
from search_app.i18n_convert.python_source import convert_python
from search_app.i18n_convert.templates import convert_template

SKIP = {"i18n.py"}


def convert_file(path: Path, known: Known) -> Result:
    """Convert one file by its kind."""
    src, shown = path.read_text(encoding="utf-8"), _shown(path)
    if path.suffix == ".py":
        return convert_python(src, shown, known)
    return convert_template(src, shown, known)


def _shown(path: Path) -> str:
    """Return the path relative to the working folder when it is inside it."""
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def _files(paths: list[str]) -> list[Path]:
    """Expand folders into their templates and Python files."""
    found = []
    for raw in map(Path, paths):
        items = sorted(raw.rglob("*")) if raw.is_dir() else [raw]
        found += [p for p in items if p.suffix in (".html", ".py") and p.name not in SKIP]
    return found


def main(argv: list[str] | None = None) -> int:
    """Convert the given files and folders; report what was left alone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--dry-run", action="store_true", help="report only, change nothing")
    parser.add_argument("--no-ruff", action="store_true", help="do not run ruff on Python files")
    parser.add_argument("--po", type=Path, default=PO_PATH, help="the English catalogue")
    args = parser.parse_args(argv)
    catalog = load_catalog(args.po)
    known, problems, changed, pairs = known_pairs(catalog), [], [], []
    for path in _files(args.paths):
        result = convert_file(path, known)
        problems += result.problems
        pairs += result.pairs
        if result.pairs:
            print(f"{_shown(path)}: {len(result.pairs)} converted")
            changed.append((path, result.text))
    if not args.dry_run:
        _write(changed, catalog, pairs, args)
    for problem in problems:
        print(f"NOT CONVERTED {problem}", file=sys.stderr)
    print(f"{len(pairs)} pairs converted in {len(changed)} files, {len(problems)} left alone")
    return 1 if problems else 0


def _write(changed: list[tuple[Path, str]], catalog: Catalog, pairs: list[Pair], args) -> None:
    """Write the files and the catalogue; tidy the Python files with ruff."""
    for path, text in changed:
        path.write_text(text, encoding="utf-8")
    merge(catalog, pairs)
    save(catalog, args.po)
    python = [str(p) for p, _text in changed if p.suffix == ".py"]
    ruff = Path(sys.executable).with_name("ruff")
    if python and not args.no_ruff and ruff.exists():
        subprocess.run([ruff, "check", "-q", "--select", "I", "--fix", *python], check=False)
        subprocess.run([ruff, "format", "-q", *python], check=False)
