"""Listings: a facility with its current answers, as each audience may see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, cast, or_
from sqlmodel import Session, col, func, select

from surveys.models import Facility, PulseAnswer, SurveyResponse
from surveys.network import names, stored_links
from surveys.operations import current_responses, today_in_japan
from surveys.pulse import latest_answers
from surveys.questionnaire import Questionnaire

STALE_AFTER_DAYS = 365
ACCEPTING = frozenset({"yes", "conditional"})


@dataclass(frozen=True)
class Listing:
    """One facility and its current answers (None when it never answered)."""

    facility: Facility
    response: SurveyResponse | None
    capacity: PulseAnswer | None = None  # the newest capacity pulse answer

    @property
    def is_public(self) -> bool:
        """Tell whether the facility chose public listing."""
        return bool(self.response) and self.response.answers.get("visibility") == "public"

    @property
    def verified_on(self) -> date | None:
        """Return the date the answers were last confirmed."""
        return self.response.verified_on if self.response else None

    def is_stale(self, today: date | None = None) -> bool:
        """Tell whether the answers are missing or over a year old."""
        if self.verified_on is None:
            return True
        return ((today or today_in_japan()) - self.verified_on).days > STALE_AFTER_DAYS

    @property
    def is_searched(self) -> bool:
        """Tell whether this is a psychiatric facility (searched; its answers are the survey's).

        Obstetric units and contact points show their master data only: hearing answers are
        for the office and the study group, never on a page or in the public API.
        """
        return self.facility.category == "psychiatric"

    def visible_to(self, professional: bool) -> bool:
        """Tell whether an audience may see this facility at all."""
        return professional or self.is_public

    def answers_for(self, questionnaire: Questionnaire, professional: bool) -> dict[str, Any]:
        """Return the answers an audience may see (the public: public items only)."""
        answers = dict(self.response.answers) if self.response else {}
        if professional:
            return answers
        allowed = questionnaire.public_keys()
        return {k: v for k, v in answers.items() if k in allowed}


def accepts(listing: Listing, kind: str) -> bool:
    """Tell whether the facility's current answer accepts this group (yes or conditional)."""
    return bool(listing.response) and listing.response.answers.get(kind) in ACCEPTING


def load_listings(session: Session, facility_ids: list[int]) -> dict[int, Listing]:
    """Load facilities and their current answers by id."""
    facilities = session.exec(select(Facility).where(col(Facility.id).in_(facility_ids))).all()
    responses = current_responses(session, facility_ids)
    pulses = latest_answers(session, facility_ids)
    return {f.id: Listing(f, responses.get(f.id), pulses.get(f.id)) for f in facilities}


def hidden_from_public(session: Session, facility_ids: list[int]) -> set[int]:
    """Return the ids among these of psychiatric facilities the public may not see."""
    listings = load_listings(session, facility_ids)
    return {i for i, lst in listings.items() if lst.is_searched and not lst.is_public}


def public_links(
    session: Session, questionnaire: Questionnaire, answers: dict[str, Any]
) -> dict[str, Any]:
    """Return the answers without partner links to facilities the public may not see."""
    keys = [i.key for i in questionnaire.items if i.type == "facility_links" and i.key in answers]
    ids = [link["id"] for key in keys for link in stored_links(answers[key])]
    hidden = hidden_from_public(session, ids) if ids else set()
    if not hidden:
        return answers
    kept = {key: [x for x in stored_links(answers[key]) if x["id"] not in hidden] for key in keys}
    return {**answers, **kept}


def facilities_naming(session: Session, facility_id: int) -> list[int]:
    """Return the ids of the facilities whose current answers name this facility as a partner.

    A text match narrows the answers first (any version); the current version decides.
    """
    patterns = [f'%"id": {facility_id}%', f'%"id":{facility_id}%']
    text = cast(SurveyResponse.answers, String)
    query = (
        select(SurveyResponse.facility_id)
        .where(or_(*(text.like(pattern) for pattern in patterns)))
        .distinct()
    )
    candidates = list(session.exec(query))
    current = current_responses(session, candidates)
    return sorted(i for i, response in current.items() if names(response.answers, facility_id))


@dataclass(frozen=True)
class Scope:
    """What the directory holds, said on the home page."""

    facilities: int
    answered: int
    latest_answer: date | None


def directory_scope(session: Session) -> Scope:
    """Count the psychiatric facilities, those that answered the survey, and the latest
    answer's date."""
    searched = Facility.category == "psychiatric"
    facilities = session.exec(select(func.count()).select_from(Facility).where(searched)).one()
    answered, latest = session.exec(
        select(
            func.count(func.distinct(SurveyResponse.facility_id)),
            func.max(SurveyResponse.verified_on),
        )
        .join(Facility, col(Facility.id) == SurveyResponse.facility_id)
        .where(searched)
    ).one()
    return Scope(facilities, answered, latest)
