"""`pmh geocode`: the offline geocoder on the command line (needs no app)."""

from __future__ import annotations

import json
import sys

import click

from index.geo.errors import AddressNotUnderstood
from index.geo.gazetteer import prefecture_codes
from index.geo.geocoder import GeocodeResult, geocode


def _record(query: str, prefecture: str) -> tuple[dict[str, object], bool]:
    """Geocode one query; return its JSON record and whether it was understood."""
    try:
        result: GeocodeResult = geocode(query, prefecture)
    except AddressNotUnderstood as exc:
        return {"query": query, "error": exc.message_ja}, False
    record = {"query": query, "lat": result.lat, "lng": result.lng}
    record |= {"level": result.level, "label": result.label}
    return record, True


def _emit(record: dict[str, object], as_json: bool) -> None:
    """Print one record as a JSON line or as a tab-separated line."""
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False))
    elif "error" in record:
        click.echo(f"{record['query']}\tERROR\t{record['error']}")
    else:
        fields = ("query", "lat", "lng", "level", "label")
        click.echo("\t".join(str(record[f]) for f in fields))


@click.command("geocode")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--prefecture", default="東京都", show_default=True, help="Preferred prefecture.")
@click.argument("addresses", nargs=-1, required=True)
def geocode_command(addresses: tuple[str, ...], as_json: bool, prefecture: str) -> None:
    """Geocode ADDRESS... offline (an address, station, postal code or municipality).

    With `-` as the only argument, read one address per line from standard input and write
    one JSON object per line: {"query", "lat", "lng", "level", "label"} or {"query", "error"}.
    Blank input lines are skipped. The exit code is 1 when at least one address was not
    understood (every address is still processed), 0 otherwise.
    """
    if prefecture not in prefecture_codes():
        raise click.BadParameter(f"unknown prefecture: {prefecture}", param_hint="--prefecture")
    from_stdin = addresses == ("-",)
    queries = [line.strip() for line in sys.stdin] if from_stdin else list(addresses)
    failed = False
    for query in queries:
        if not query:
            continue
        record, ok = _record(query, prefecture)
        failed |= not ok
        _emit(record, as_json or from_stdin)
    if failed:
        click.get_current_context().exit(1)
