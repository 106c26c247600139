"""Exports of facilities with their current answers: CSV, XLSX and HSDS-style JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from surveys import audit
from surveys.exports.hsds import build_hsds
from surveys.exports.options import FORMATS, ExportError, ExportOptions
from surveys.exports.spreadsheet import write_csv, write_xlsx
from surveys.exports.table import build_table, select_listings
from surveys.listings import Listing
from surveys.models import QuestionnaireVersion, utcnow
from surveys.operations import today_in_japan
from surveys.questionnaire import Questionnaire

__all__ = ["FORMATS", "Export", "ExportError", "ExportOptions", "export_facilities"]

MEDIA_TYPES = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "hsds": ("application/json", "json"),
}


@dataclass(frozen=True)
class Export:
    """A finished export: the file's bytes, its media type, a file name, the facility count."""

    content: bytes
    media_type: str
    filename: str
    rows: int


def export_facilities(
    session: Session,
    questionnaire: Questionnaire,
    options: ExportOptions,
    actor: audit.Actor,
    now: datetime | None = None,
) -> Export:
    """Export the facilities the audience may see and record it; the caller commits.

    The questionnaire decides which facilities: the survey's psychiatric ones, or a hearing's
    obstetric units or contact points (their answers are never public: staff exports only).
    """
    options.check(questionnaire)
    moment = now or utcnow()
    listings = select_listings(session, options, questionnaire.respondent)
    content = _render(session, listings, questionnaire, options, moment)
    audit.record(
        session,
        actor,
        "export.facilities",
        format=options.format,
        audience=options.audience,
        lang=options.lang,
        columns=list(options.columns),
        rows=len(listings),
        edition=questionnaire.version,
    )
    media_type, extension = MEDIA_TYPES[options.format]
    prefix = "facilities" if questionnaire.respondent == "psychiatric" else questionnaire.version
    name = f"{prefix}-{options.audience}-{options.lang}-{today_in_japan(moment):%Y%m%d}"
    return Export(content, media_type, f"{name}.{extension}", len(listings))


def _render(session, listings: list[Listing], questionnaire, options, moment) -> bytes:
    """Write the listings in the chosen format."""
    if options.format == "hsds":
        rows = session.exec(select(QuestionnaireVersion.id, QuestionnaireVersion.version))
        versions = {row_id: version for row_id, version in rows}
        document = build_hsds(listings, questionnaire, options, versions, moment)
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    table = build_table(listings, questionnaire, options)
    return write_csv(table) if options.format == "csv" else write_xlsx(table, options.lang)
