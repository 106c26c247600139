"""Survey campaigns: open one, invite facilities to it."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlmodel import Session, col, select

from surveys import audit
from surveys.errors import SurveyError
from surveys.invitations import create_invitation
from surveys.models import Campaign, Facility, SurveyResponse, utcnow
from surveys.operations import TOKYO, ensure_questionnaire
from surveys.questionnaire import Questionnaire


def close_of_day_in_japan(day: date) -> datetime:
    """Return the end of a Japanese calendar day as an aware datetime."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=TOKYO)


def create_campaign(
    session: Session, questionnaire: Questionnaire, name: str, closes_on: date, actor: audit.Actor
) -> Campaign:
    """Open a campaign for this questionnaire edition, closing at the end of `closes_on`."""
    closes_at = close_of_day_in_japan(closes_on)
    if closes_at <= utcnow():
        raise SurveyError("締切日は今日以降にしてください。", "The closing date must not be past.")
    version = ensure_questionnaire(session, questionnaire)
    campaign = Campaign(name=name, questionnaire_id=version.id, closes_at=closes_at)
    session.add(campaign)
    session.flush()
    audit.record(session, actor, "campaign.create", campaign, closes_on=closes_on.isoformat())
    return campaign


def facilities_to_invite(
    session: Session, facility_ids: list[int], unanswered_only: bool
) -> list[Facility]:
    """Return the chosen facilities (all when none are named), optionally only unanswered."""
    query = select(Facility).order_by(Facility.id)
    if facility_ids:
        query = query.where(col(Facility.id).in_(facility_ids))
    if unanswered_only:
        query = query.where(col(Facility.id).not_in(select(SurveyResponse.facility_id)))
    found = list(session.exec(query))
    missing = set(facility_ids) - {f.id for f in found}
    if missing and not unanswered_only:
        raise SurveyError(
            f"施設IDが見つかりません: {sorted(missing)}", f"No facility with id {sorted(missing)}."
        )
    return found


def invite(
    session: Session, campaign: Campaign, facilities: list[Facility], actor: audit.Actor
) -> list[tuple[Facility, str]]:
    """Create one invitation per facility; return each facility with its clear token."""
    if campaign.closed or campaign.closes_at <= utcnow():
        raise SurveyError("この調査は締め切られています。", "This campaign is closed.")
    return [(f, create_invitation(session, f, campaign, actor)[1]) for f in facilities]
