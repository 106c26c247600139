"""Search documents: what the index holds about one facility, built from the database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from surveys.models import Facility, PulseAnswer, SurveyResponse
from surveys.network import partner_ids, stored_links
from surveys.operations import current_responses
from surveys.pulse import latest_answers
from surveys.questionnaire import Questionnaire
from surveys.referrals import OutcomeCounts, outcome_counts
from surveys.reports import open_reports


@dataclass(frozen=True)
class FacilityDoc:
    """The indexed view of a facility and its current answers."""

    id: int
    stamp: str
    name: str
    kana: str
    address: str
    kind: str
    municipality_code: str
    lat: float | None
    lng: float | None
    visibility: str
    verified_on: date | None
    answers: dict[str, Any] = field(default_factory=dict)
    body_public: str = ""
    body_pro: str = ""
    # The newest capacity pulse answer ("room", "little", "none"; "" for none) and its date;
    # index/capacity.py says whether it is still fresh.
    capacity: str = ""
    capacity_on: date | None = None
    # Answered referral outcomes (counts, never shown publicly): for the default order.
    outcomes: OutcomeCounts = field(default_factory=OutcomeCounts)
    # Open "could not get an appointment" reports (index/ranking.py).
    open_reports: int = 0
    # Obstetric units the answers name as partners (search parameter partner_of).
    partners: tuple[int, ...] = ()


@dataclass(frozen=True)
class Signals:
    """What besides the survey answers a document is built from."""

    pulse: PulseAnswer | None = None
    outcomes: OutcomeCounts = field(default_factory=OutcomeCounts)
    open_reports: int = 0


def stamp_of(
    facility: Facility, response: SurveyResponse | None, signals: Signals | None = None
) -> str:
    """Identify the state a document was built from: master data time, newest pulse answer,
    answered outcomes, open reports and answer version
    ("<time>|p<pulse id>.o<outcomes>.r<open reports>|v<version>")."""
    version = response.version_no if response else 0
    signals = signals or Signals()
    pulse = signals.pulse.id if signals.pulse else 0
    counts = f"o{signals.outcomes.answered}.r{signals.open_reports}"
    return f"{facility.updated_at.isoformat()}|p{pulse}.{counts}|v{version}"


def build_doc(
    facility: Facility,
    response: SurveyResponse | None,
    q: Questionnaire,
    signals: Signals | None = None,
) -> FacilityDoc:
    """Build the document of one facility; unanswered facilities are professionals-only."""
    answers = response.answers if response else {}
    signals = signals or Signals()
    public, pro = _free_text(answers, q)
    return FacilityDoc(
        id=facility.id,
        stamp=stamp_of(facility, response, signals),
        name=facility.name,
        kana=facility.kana,
        address=facility.address,
        kind=facility.kind,
        municipality_code=facility.municipality_code,
        lat=facility.lat,
        lng=facility.lng,
        visibility=answers.get("visibility") or "professionals",
        verified_on=response.verified_on if response else None,
        answers=answers,
        body_public=" ".join([facility.departments.replace(",", " "), *public]),
        body_pro=" ".join(pro),
        capacity=signals.pulse.capacity if signals.pulse else "",
        capacity_on=signals.pulse.answered_on if signals.pulse else None,
        outcomes=signals.outcomes,
        open_reports=signals.open_reports,
        partners=tuple(partner_ids(answers, q, "obstetric")),
    )


def _free_text(answers: dict[str, Any], q: Questionnaire) -> tuple[list[str], list[str]]:
    """Split searchable answer text into public and professional-only parts."""
    public: list[str] = []
    pro: list[str] = []
    for item in q.items:
        value = answers.get(item.key)
        if item.type == "facility_links":  # the partner may be listed for professionals only
            pro.extend(str(link["name"]) for link in stored_links(value))
            continue
        if item.type == "text" and value:
            texts = [value]
        elif item.type == "multi" and value:
            texts = [item.choice_label(v, "ja") for v in value]
        else:
            continue
        (pro if item.professional_only else public).extend(texts)
    return public, pro


# Only psychiatric facilities are searched: obstetric units and municipal contact points stay
# out of the index (a facility that stops being psychiatric is removed by its outbox row).
SEARCHED_CATEGORY = "psychiatric"


def load_docs(session: Session, facility_ids: Iterable[int], q: Questionnaire) -> list[FacilityDoc]:
    """Build documents for the searched (psychiatric) facilities among `facility_ids`."""
    ids = list(facility_ids)
    query = select(Facility).where(
        col(Facility.id).in_(ids), Facility.category == SEARCHED_CATEGORY
    )
    # Fresh rows even for objects this session already holds: documents must be current.
    facilities = session.exec(query.execution_options(populate_existing=True)).all()
    responses = current_responses(session, ids)
    signals = load_signals(session, ids)
    return [build_doc(f, responses.get(f.id), q, signals.get(f.id)) for f in facilities]


def load_signals(session: Session, facility_ids: list[int]) -> dict[int, Signals]:
    """Return the newest pulse answer, outcome counts and open reports of these facilities."""
    pulses = latest_answers(session, facility_ids)
    outcomes = outcome_counts(session, facility_ids)
    reports = open_reports(session, facility_ids)
    return {
        i: Signals(pulses.get(i), outcomes.get(i, OutcomeCounts()), len(reports.get(i, ())))
        for i in set(pulses) | set(outcomes) | set(reports)
    }


def all_facility_ids(session: Session) -> list[int]:
    """Return the id of every searched (psychiatric) facility, ascending."""
    query = select(Facility.id).where(Facility.category == SEARCHED_CATEGORY)
    return list(session.exec(query.order_by(Facility.id)))
