"""`pmh coverage`: where mothers lack accessible care, per municipality (table, CSV or JSON)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from index.coverage import (
    DEFAULT_THRESHOLD_KM,
    CoverageReport,
    MunicipalityCoverage,
    TownGap,
    prefecture_coverage,
    report_csv,
    report_json,
)
from search_app.cli import run
from search_app.db import engine
from surveys.operations import TOKYO

FORMATS = ("table", "csv", "json")
SUFFIX_FORMATS = {".csv": "csv", ".json": "json"}
# (header, display width, right-aligned)
COLUMNS = (
    ("市区町村", 18, False),
    ("施設", 5, True),
    ("回答", 5, True),
    ("妊娠可", 7, True),
    ("産後可", 7, True),
    ("1年内確認", 10, True),
    ("妊娠 中央/最大km", 18, True),
    ("産後 中央/最大km", 18, True),
    ("超過町丁目 妊/産", 18, True),
)


@click.command("coverage")
@click.option(
    "--threshold-km",
    type=click.FloatRange(min=0, min_open=True, max=20_000),
    default=DEFAULT_THRESHOLD_KM,
    show_default=True,
    help="List towns farther than this from the nearest accepting facility.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    help="Default: from the output's suffix (.csv, .json), else a table.",
)
@click.option("--towns", is_flag=True, help="CSV: write the towns beyond the threshold instead.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def coverage_command(
    threshold_km: float, output_format: str | None, towns: bool, lang: str, output: Path | None
) -> None:
    """Report facilities, answers and distances to accepting facilities per municipality."""
    prefecture_code = current_app.config["PREFECTURE_CODE"]
    with Session(engine()) as session:
        report = run(lambda: prefecture_coverage(session, prefecture_code, threshold_km))
    chosen = output_format or SUFFIX_FORMATS.get(output.suffix.lower() if output else "", "table")
    if output is None:
        click.echo(_render(report, chosen, towns, lang).decode("utf-8-sig"), nl=False)
        return
    output.write_bytes(_render(report, chosen, towns, lang))
    click.echo(
        f"Wrote coverage of {len(report.municipalities)} municipalities "
        f"({len(report.gaps)} towns beyond {threshold_km:g} km) to {output}."
    )


def _render(report: CoverageReport, output_format: str, towns: bool, lang: str) -> bytes:
    """Return the report in the chosen format."""
    if output_format == "csv":
        return report_csv(report, towns=towns, lang=lang)
    if output_format == "json":
        return (report_json(report) + "\n").encode("utf-8")
    return render_table(report).encode("utf-8")


def render_table(report: CoverageReport) -> str:
    """Return the report as a plain-text table with notes and the towns beyond the threshold."""
    moment = report.generated_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
    lines = [f"{report.prefecture} 妊産婦の受け入れ状況（{moment} 時点）", ""]
    lines.append(_line([header for header, _width, _right in COLUMNS]))
    lines.extend(_line(_cells(row)) for row in report.municipalities)
    lines.extend(["", *_notes(report), ""])
    lines.extend(_gap_lines(report))
    return "\n".join(lines) + "\n"


def _cells(row: MunicipalityCoverage) -> list[str]:
    """Return one municipality's cells."""
    return [
        row.name,
        str(row.facilities),
        str(row.answered),
        str(row.accepting_pregnant),
        str(row.accepting_postpartum),
        str(row.verified_recently),
        f"{_km(row.pregnant.median_km)} / {_km(row.pregnant.worst_km)}",
        f"{_km(row.postpartum.median_km)} / {_km(row.postpartum.worst_km)}",
        f"{row.pregnant.towns_beyond} / {row.postpartum.towns_beyond}",
    ]


def _notes(report: CoverageReport) -> list[str]:
    """Explain what the distances are and what they leave out."""
    missing = report.accepting_without_coordinates
    notes = [
        "距離: 町丁目の代表点から最寄りの受け入れ医療機関（他の区市町村も含む）までの直線距離。",
        "受け入れ: 「受け入れている」または「条件付きで受け入れている」。"
        "1年内確認: 最終確認日が365日以内。",
        f"座標のない医療機関 {report.facilities_without_coordinates} 件は距離に含めていません"
        f"（うち妊娠中の受け入れ {missing['pregnant']} 件、産後 {missing['postpartum']} 件）。",
        f"座標のない町丁目 {sum(r.towns_without_coordinates for r in report.municipalities)} 件"
        "は距離の計算から除いています。「-」: 計算できる町丁目か受け入れ医療機関がありません。",
    ]
    if report.unassigned_facilities:
        notes.append(
            f"区市町村コードが{report.prefecture}の区市町村に当たらない医療機関 "
            f"{report.unassigned_facilities} 件は、距離の計算にだけ使っています。"
        )
    return notes


def _gap_lines(report: CoverageReport) -> list[str]:
    """List the towns beyond the threshold."""
    title = f"最寄りの受け入れ医療機関まで {report.threshold_km:g} km を超える町丁目"
    lines = [f"{title}: {len(report.gaps)} 件（* がしきい値を超える方）"]
    lines.extend(_gap_line(gap) for gap in report.gaps)
    return lines


def _gap_line(gap: TownGap) -> str:
    """Describe one town beyond the threshold; the group beyond it is marked with *."""
    pregnant = f"妊娠 {_km(gap.pregnant_km)} km{'*' if gap.pregnant_beyond else ''}"
    postpartum = f"産後 {_km(gap.postpartum_km)} km{'*' if gap.postpartum_beyond else ''}"
    cells = (_pad(gap.municipality, 18), _pad(gap.town, 24), _pad(pregnant, 18), postpartum)
    return "  " + "".join(cells)


def _km(value: float | None) -> str:
    """Format a distance to 0.1 km; a dash when there is none."""
    return "-" if value is None else f"{value:.1f}"


def _line(cells: list[str]) -> str:
    """Join cells padded to their columns' display widths."""
    padded = [_pad(c, width, right) for c, (_h, width, right) in zip(cells, COLUMNS, strict=True)]
    return " ".join(padded).rstrip()


def _pad(text: str, width: int, right: bool = False) -> str:
    """Pad text to a display width (full-width characters take two columns)."""
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def _width(text: str) -> int:
    """Return the display width of text in a terminal."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def register(cli) -> None:
    """Add the coverage command."""
    cli.add_command(coverage_command)
