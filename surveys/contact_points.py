"""Municipal contact points (こども家庭センター・保健センター), maintained by the office."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session

from surveys import audit
from surveys.errors import SurveyError
from surveys.models import CONTACT_KINDS, Facility, utcnow
from surveys.places import Municipality
from surveys.users import valid_email

PHONE_RE = re.compile(r"[0-9()\-+ ]*[0-9][0-9()\-+ ]*")


class ContactPointError(SurveyError):
    """A contact point's data is incomplete or wrong; nothing was stored."""

    status = 422


@dataclass(frozen=True)
class ContactPointData:
    """What the office enters for a contact point (lat/lng from the caller's geocoder)."""

    name: str
    kind: str
    municipality_code: str
    address: str
    phone: str
    hours: str = ""
    email: str = ""
    lat: float | None = None
    lng: float | None = None


def check_contact_point(
    data: ContactPointData, areas: list[Municipality] | tuple = ()
) -> ContactPointData:
    """Return the data cleaned, or raise ContactPointError naming what is missing or wrong."""
    name, address = data.name.strip(), data.address.strip()
    phone = unicodedata.normalize("NFKC", data.phone).strip()
    if not name:
        raise ContactPointError("名称を入力してください。", "Enter the name.")
    if data.kind not in CONTACT_KINDS:
        raise ContactPointError("種別を選んでください。", "Choose the kind of contact point.")
    known = {m.code for m in areas}
    if areas and data.municipality_code not in known:
        raise ContactPointError("区市町村を選んでください。", "Choose the municipality.")
    if not phone:
        raise ContactPointError(
            "相談窓口には電話番号が必要です。電話番号を入力してください。",
            "A contact point needs a phone number: enter it.",
        )
    if not PHONE_RE.fullmatch(phone) or len(phone) > 40:
        raise ContactPointError(
            "電話番号は数字とハイフンで入力してください。",
            "Enter the phone number with digits and hyphens.",
        )
    email = valid_email(data.email) if data.email.strip() else ""
    return ContactPointData(
        name=name[:200],
        kind=data.kind,
        municipality_code=data.municipality_code,
        address=address[:300],
        phone=phone,
        hours=data.hours.strip()[:1000],
        email=email,
        lat=data.lat,
        lng=data.lng,
    )


def save_contact_point(
    session: Session,
    data: ContactPointData,
    actor: audit.Actor,
    areas: list[Municipality] | tuple = (),
    facility: Facility | None = None,
) -> Facility:
    """Create (or update) a contact point from checked data, audited; the caller commits."""
    clean = check_contact_point(data, areas)
    values: dict[str, Any] = asdict(clean)
    values["prefecture_code"] = clean.municipality_code[:2]
    if facility is None:
        facility = Facility(
            source_id=f"contact-{clean.municipality_code}-{secrets.token_hex(4)}",
            category="municipal",
            **values,
        )
        before: dict[str, Any] = {}
    else:
        if facility.category != "municipal":
            raise ContactPointError("相談窓口ではありません。", "Not a contact point.")
        before = {k: getattr(facility, k) for k in values}
        for key, value in values.items():
            setattr(facility, key, value)
        facility.updated_at = utcnow()
    session.add(facility)
    session.flush()
    changes = {k: [before.get(k), v] for k, v in values.items() if before.get(k) != v}
    action = "facility.contact_point.update" if before else "facility.contact_point.create"
    audit.record(session, actor, action, facility, changes=changes)
    return facility
