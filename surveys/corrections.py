"""Clinics propose corrections to their facility details; the office approves or rejects them.

An approved correction is applied to the facility (and the search index) and stays in force:
a later master import that would change the same field lists it as a conflict instead of
overwriting it silently (see surveys.importer.apply).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from surveys import audit
from surveys.errors import SurveyError
from surveys.models import CORRECTION_FIELDS, Facility, FacilityCorrection, IndexOutbox, utcnow
from surveys.users import EMAIL_RE

LIMITS = {"phone": 40, "website": 500, "hours": 1000, "station": 200, "email": 254}
PHONE_RE = re.compile(r"^0\d{1,4}-?\d{1,4}-?\d{3,4}$")


class CorrectionError(SurveyError):
    """A proposed value is malformed; `errors` maps field to (Japanese, English) message."""

    status = 422

    def __init__(self, errors: dict[str, tuple[str, str]]):
        self.errors = errors
        super().__init__("入力内容を確認してください。", "Please check the values.")


class CorrectionNotPending(SurveyError):
    """The correction was decided already (e.g. by another admin a moment ago)."""

    status = 409
    message_ja = "この提案は既に処理されています。"
    message_en = "This proposal has already been decided."


class ReasonRequired(SurveyError):
    """A rejection needs a reason the clinic will read."""

    status = 422
    message_ja = "却下する理由を入力してください（医療機関に表示されます）。"
    message_en = "Please give a reason for the rejection (the clinic will see it)."


def normalise(field: str, value: str | None) -> str:
    """Return a value as it would be stored: NFKC, trimmed; phone numbers with ASCII hyphens."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if field == "phone":
        text = re.sub(r"[\s‐‑‒–—―ー−]", "-", text).replace("(", "-").replace(")", "-")
        text = re.sub(r"-+", "-", text).strip("-")
    if field == "email":
        text = text.lower()
    return text


def check(field: str, value: str) -> tuple[str, str] | None:
    """Return why a (normalised, non-empty) value is refused, or None."""
    if len(value) > LIMITS[field]:
        return (
            f"{LIMITS[field]}文字以内で入力してください。",
            f"At most {LIMITS[field]} characters.",
        )
    if field == "phone" and not PHONE_RE.match(value):
        return (
            "電話番号は 03-1234-5678 のように、0で始まる数字とハイフンで入力してください。",
            "Enter the phone number as digits starting with 0, e.g. 03-1234-5678.",
        )
    if field == "website" and not _is_web_address(value):
        return (
            "ウェブサイトは https:// で始まるアドレスで入力してください。",
            "Enter the website as an address starting with https://.",
        )
    if field == "email" and not EMAIL_RE.match(value):
        return ("メールアドレスの形式が正しくありません。", "This is not an e-mail address.")
    return None


def _is_web_address(value: str) -> bool:
    """Tell whether a value is an http(s) address with a host name."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and "." in (parts.hostname or "") and " " not in value


def propose(
    session: Session, facility: Facility, values: dict[str, str], actor: audit.Actor
) -> list[FacilityCorrection]:
    """Store a pending correction for each field whose value differs; all or nothing."""
    proposed = {f: normalise(f, values.get(f)) for f in CORRECTION_FIELDS if f in values}
    errors = {f: e for f, v in proposed.items() if v and (e := check(f, v))}
    if errors:
        raise CorrectionError(errors)
    made = []
    for field, value in proposed.items():
        if value != (getattr(facility, field) or ""):
            made.append(_pending(session, facility, field, value, actor))
    return made


def _pending(session, facility: Facility, field: str, value: str, actor) -> FacilityCorrection:
    """Add (or replace the value of) the facility's pending correction of one field."""
    query = select(FacilityCorrection).where(
        FacilityCorrection.facility_id == facility.id,
        FacilityCorrection.field == field,
        FacilityCorrection.status == "pending",
    )
    correction = session.exec(query).first() or FacilityCorrection(
        facility_id=facility.id, field=field
    )
    correction.old_value = getattr(facility, field) or ""
    correction.new_value, correction.proposed_by = value, actor.label[:200]
    session.add(correction)
    session.flush()
    audit.record(session, actor, "correction.propose", facility, field=field,
                 before=correction.old_value, after=value)  # fmt: skip
    return correction


def decide(
    session: Session, correction_id: int, approve: bool, reason: str, actor: audit.Actor
) -> FacilityCorrection:
    """Approve (apply to the facility) or reject (with a reason) a pending correction."""
    correction = session.get(FacilityCorrection, correction_id, with_for_update=True)
    if correction is None or correction.status != "pending":
        raise CorrectionNotPending()
    reason = (reason or "").strip()[:500]
    if not approve and not reason:
        raise ReasonRequired()
    facility = session.get(Facility, correction.facility_id)
    correction.status = "approved" if approve else "rejected"
    correction.reason, correction.decided_by = reason, actor.label[:200]
    correction.decided_at = utcnow()
    if approve:
        setattr(facility, correction.field, correction.new_value)
        facility.updated_at = utcnow()
        session.add_all([facility, IndexOutbox(facility_id=facility.id)])
    session.add(correction)
    action = "correction.approve" if approve else "correction.reject"
    change = {"before": correction.old_value, "after": correction.new_value}
    audit.record(session, actor, action, facility, field=correction.field, reason=reason, **change)
    return correction


def for_facility(session: Session, facility_id: int, limit: int = 20) -> list[FacilityCorrection]:
    """Return a facility's corrections, newest first (the clinic sees their outcome)."""
    query = select(FacilityCorrection).where(FacilityCorrection.facility_id == facility_id)
    return list(session.exec(query.order_by(col(FacilityCorrection.id).desc()).limit(limit)))


def queue(session: Session, status: str = "pending", limit: int = 200):
    """Return (correction, facility) pairs with this status, oldest pending first."""
    query = (
        select(FacilityCorrection, Facility)
        .join(Facility, Facility.id == FacilityCorrection.facility_id)
        .where(FacilityCorrection.status == status)
    )
    order = col(FacilityCorrection.id) if status == "pending" else col(FacilityCorrection.id).desc()
    return list(session.exec(query.order_by(order).limit(limit)))


def in_force(session: Session) -> dict[tuple[int, str], str]:
    """Return {(facility id, field): value} of the latest approved correction per field."""
    query = select(FacilityCorrection).where(FacilityCorrection.status == "approved")
    latest: dict[tuple[int, str], str] = {}
    for row in session.exec(query.order_by(col(FacilityCorrection.id))):
        latest[(row.facility_id, row.field)] = row.new_value
    return latest
