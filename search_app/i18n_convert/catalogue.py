"""The English catalogue: read, merge converted pairs, write the .po and compile the .mo."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from search_app.i18n_convert.messages import Known, Pair

HEADER = """\
# English for 妊産婦こころの医療機関ナビ. The msgid is the Japanese source text.
# Started by `python -m search_app.i18n_convert`; kept by `make translations` (then fill in the
# empty msgstr). Commit the .mo with the .po: tests/test_i18n.py checks it is compiled from it.
#"""
PO_PATH = Path(__file__).parent.parent / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def load_catalog(path: Path = PO_PATH) -> Catalog:
    """Read the English catalogue, or start one."""
    if path.exists():
        with path.open("rb") as f:
            return read_po(f, locale="en")
    return Catalog(
        locale="en", domain="messages", header_comment=HEADER, project="pmh-navi", fuzzy=False
    )


def known_pairs(catalog: Catalog) -> Known:
    """Return the translated entries as {(context, msgid): msgstr}."""
    return {(m.context, m.id): m.string for m in catalog if m.id and m.string}


def merge(catalog: Catalog, pairs: list[Pair]) -> None:
    """Add the pairs to the catalogue (filling empty entries), with their files as locations."""
    for pair in pairs:
        message = catalog.get(pair.msgid, pair.context)
        if message is None:
            message = catalog.add(pair.msgid, pair.msgstr, context=pair.context)
        message.string = message.string or pair.msgstr
        if (pair.path, None) not in message.locations:
            message.locations.append((pair.path, None))


def save(catalog: Catalog, path: Path = PO_PATH) -> None:
    """Write the .po (sorted, unwrapped, file names only) and compile the .mo from it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, sort_output=True, include_lineno=False)
    path.write_bytes(buffer.getvalue())
    path.with_suffix(".mo").write_bytes(compile_po(path))


def compile_po(path: Path = PO_PATH) -> bytes:
    """Return the .mo bytes for a .po file, as `pybabel compile` writes them."""
    with path.open("rb") as f:
        catalog = read_po(f, locale="en")
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()
