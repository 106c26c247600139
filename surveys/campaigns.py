"""Survey campaigns: open one for a scope of facilities, invite them, follow progress, close it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from surveys import audit
from surveys.errors import SurveyError
from surveys.invitations import create_invitation
from surveys.models import (
    CONTACT_KINDS,
    FACILITY_KINDS,
    Campaign,
    Facility,
    Invitation,
    MailMessage,
    SurveyResponse,
    utcnow,
)
from surveys.operations import TOKYO, ensure_questionnaire
from surveys.places import Municipality
from surveys.questionnaire import Questionnaire


class CampaignClosed(SurveyError):
    """The campaign was closed or its closing date has passed."""

    status = 409
    message_ja = "この調査は締め切られています。"
    message_en = "This campaign is closed."


class UnknownCampaign(SurveyError):
    """No campaign has this id."""

    status = 404
    message_ja = "調査が見つかりません。"
    message_en = "No such campaign."


@dataclass(frozen=True)
class Scope:
    """Which facilities a campaign covers; empty lists mean no restriction."""

    prefecture: str
    municipalities: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    def as_json(self) -> dict:
        """Return the form stored in `campaign.scope` (its category is added on creation)."""
        return {
            "prefecture": self.prefecture,
            "municipalities": list(self.municipalities),
            "kinds": list(self.kinds),
        }


def campaign_category(campaign: Campaign) -> str:
    """Return the facility category a campaign asks: its questionnaire's respondent."""
    return (campaign.scope or {}).get("category") or "psychiatric"


REGIONS = ("wards", "tama", "islands")


def region_of(code: str) -> str:
    """Return Tokyo's region of a municipality code: 23 wards, Tama, or the islands."""
    if code.startswith("131"):
        return "wards"
    return "islands" if code >= "13360" else "tama"


def region_codes(
    prefecture: str, regions: Iterable[str], areas: Sequence[Municipality]
) -> list[str]:
    """Return the codes of the areas in the chosen regions (Tokyo only; none elsewhere)."""
    chosen = set(regions)
    if prefecture != "13" or not chosen:
        return []
    return [m.code for m in areas if m.code and region_of(m.code) in chosen]


def close_of_day_in_japan(day: date) -> datetime:
    """Return the end of a Japanese calendar day as an aware datetime."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=TOKYO)


def make_scope(
    prefecture: str,
    municipality_codes: Iterable[str] = (),
    kinds: Iterable[str] = (),
    areas: Sequence[Municipality] = (),
) -> Scope:
    """Check municipality codes (five digits, among the prefecture's `areas`) and kinds."""
    known = {m.code for m in areas if m.code}
    codes = tuple(sorted({c.strip() for c in municipality_codes if c.strip()}))
    wrong = [c for c in codes if c not in known]
    if wrong:
        raise SurveyError(
            f"この都道府県の市区町村コードではありません: {', '.join(wrong)}",
            f"Not a municipality code of prefecture {prefecture}: {', '.join(wrong)}",
        )
    known_kinds = FACILITY_KINDS + CONTACT_KINDS
    chosen = tuple(k for k in known_kinds if k in set(kinds))
    if set(kinds) - set(known_kinds):
        raise SurveyError(
            "種別は病院・診療所・こども家庭センター・保健センター・その他の相談窓口です。",
            "Kind must be hospital, clinic, family centre, health centre or other contact point.",
        )
    return Scope(prefecture, codes, chosen)


def create_campaign(
    session: Session,
    questionnaire: Questionnaire,
    name: str,
    closes_on: date,
    actor: audit.Actor,
    scope: Scope | None = None,
) -> Campaign:
    """Open a campaign for this questionnaire edition and scope, closing at end of `closes_on`.

    The edition's respondent decides which facilities it covers (`scope["category"]`).
    """
    closes_at = close_of_day_in_japan(closes_on)
    if closes_at <= utcnow():
        raise SurveyError("締切日は今日以降にしてください。", "The closing date must not be past.")
    _check_kinds(scope, questionnaire.respondent)
    version = ensure_questionnaire(session, questionnaire)
    stored = (scope.as_json() if scope else {}) | {"category": questionnaire.respondent}
    campaign = Campaign(name=name, questionnaire_id=version.id, closes_at=closes_at, scope=stored)
    session.add(campaign)
    session.flush()
    audit.record(
        session, actor, "campaign.create", campaign, closes_on=closes_on.isoformat(), scope=stored
    )
    return campaign


def _check_kinds(scope: Scope | None, respondent: str) -> None:
    """Refuse kinds the edition's respondents cannot have (a clinic in a municipal hearing)."""
    allowed = CONTACT_KINDS if respondent == "municipal" else FACILITY_KINDS
    if scope and set(scope.kinds) - set(allowed):
        raise SurveyError(
            "選んだ種別は、この調査票に回答する医療機関・窓口の種別ではありません。",
            "The kinds chosen are not kinds of the facilities or contact points this "
            "questionnaire is for.",
        )


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    """Return the campaign or raise UnknownCampaign."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise UnknownCampaign()
    return campaign


def is_open(campaign: Campaign) -> bool:
    """Tell whether invitations of this campaign still work."""
    return not campaign.closed and campaign.closes_at > utcnow()


def check_open(campaign: Campaign) -> None:
    """Refuse to act on a closed campaign."""
    if not is_open(campaign):
        raise CampaignClosed()


def _scope_conditions(campaign: Campaign) -> list:
    """Return the conditions a facility meets to be in the campaign's scope."""
    scope = campaign.scope or {}
    conditions = [Facility.category == campaign_category(campaign)]
    if scope.get("prefecture"):
        conditions.append(Facility.prefecture_code == scope["prefecture"])
    if scope.get("municipalities"):
        conditions.append(col(Facility.municipality_code).in_(scope["municipalities"]))
    if scope.get("kinds"):
        conditions.append(col(Facility.kind).in_(scope["kinds"]))
    return conditions


def _no_email():
    """Return the condition of a facility that has no e-mail address."""
    return or_(col(Facility.email) == "", col(Facility.email).is_(None))


def in_scope(campaign: Campaign):
    """Return a query of the facilities the campaign covers, in id order."""
    return select(Facility).where(*_scope_conditions(campaign)).order_by(Facility.id)


def without_email(session: Session, campaign: Campaign) -> list[Facility]:
    """Return the in-scope facilities that have no e-mail address, in id order."""
    return list(session.exec(in_scope(campaign).where(_no_email())))


def _count_in_scope(session: Session, campaign: Campaign, *conditions) -> int:
    """Count the in-scope facilities that also meet the given conditions."""
    query = select(func.count(col(Facility.id))).where(*_scope_conditions(campaign), *conditions)
    return session.exec(query).one()


def _answered_query(campaign: Campaign):
    """Select ids of facilities that answered (or confirmed) since the campaign was opened."""
    return select(SurveyResponse.facility_id).where(
        SurveyResponse.submitted_at >= campaign.created_at
    )


def answered_ids(session: Session, campaign: Campaign) -> set[int]:
    """Return ids of facilities that answered (or confirmed) since the campaign was opened."""
    return set(session.exec(_answered_query(campaign).distinct()))


def close_campaign(session: Session, campaign: Campaign, actor: audit.Actor) -> Campaign:
    """Close the campaign: its links stop working and nothing more is sent for it."""
    if campaign.closed:
        raise SurveyError("この調査は既に締め切っています。", "This campaign is already closed.")
    campaign.closed = True
    campaign.closed_at = utcnow()
    session.add(campaign)
    audit.record(session, actor, "campaign.close", campaign)
    return campaign


@dataclass(frozen=True)
class Progress:
    """How far a campaign has come."""

    in_scope: int
    without_email: int
    invited: int
    queued: int
    sent: int
    failed: int
    answered: int
    letters: int = 0  # letters printed (one invitation each)
    opened: int = 0  # invitation links and letter codes used to sign in

    @property
    def rate(self) -> float:
        """Share of in-scope facilities that answered, 0..1."""
        return self.answered / self.in_scope if self.in_scope else 0.0

    @property
    def rate_percent(self) -> str:
        """The response rate with one decimal: 1 of 600 is 0.2%, not 0%."""
        return f"{self.rate * 100:.1f}"


def progress(session: Session, campaign: Campaign) -> Progress:
    """Count facilities and messages of a campaign."""
    rows = session.exec(
        select(MailMessage.status, func.count())
        .where(MailMessage.campaign_id == campaign.id)
        .group_by(MailMessage.status)
    )
    by_status = dict(rows.all())
    # Invited by any way: campaign mail, letters, or links made with `pmh campaign invite`.
    invited = session.exec(
        select(func.count(func.distinct(Invitation.facility_id))).where(
            Invitation.campaign_id == campaign.id
        )
    ).one()
    return Progress(
        in_scope=_count_in_scope(session, campaign),
        without_email=_count_in_scope(session, campaign, _no_email()),
        invited=invited,
        queued=by_status.get("queued", 0),
        sent=by_status.get("sent", 0),
        failed=by_status.get("failed", 0),
        answered=_count_in_scope(
            session, campaign, col(Facility.id).in_(_answered_query(campaign))
        ),
        letters=_count_invitations(session, campaign, Invitation.channel == "letter"),
        opened=_count_invitations(session, campaign, col(Invitation.used_at).is_not(None)),
    )


def _count_invitations(session: Session, campaign: Campaign, condition) -> int:
    """Count the campaign's invitations that meet a condition."""
    query = select(func.count(col(Invitation.id))).where(
        Invitation.campaign_id == campaign.id, condition
    )
    return session.exec(query).one()


def facilities_to_invite(
    session: Session, facility_ids: list[int], unanswered_only: bool, category: str | None = None
) -> list[Facility]:
    """Return the chosen facilities (all of `category` when none are named), optionally only
    those that never answered."""
    query = select(Facility).order_by(Facility.id)
    if facility_ids:
        query = query.where(col(Facility.id).in_(facility_ids))
    elif category:
        query = query.where(Facility.category == category)
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
    """Create one invitation per facility; return each facility with its clear token.

    A facility of another category than the campaign asks is refused (a hearing is not sent
    to a psychiatric clinic, nor the survey to a contact point).
    """
    check_open(campaign)
    category = campaign_category(campaign)
    others = sorted(f.id for f in facilities if f.category != category)
    if others:
        raise SurveyError(
            f"この調査の対象外の施設です（施設ID: {others}）。",
            f"Not a facility this campaign asks (facility ids {others}).",
        )
    return [(f, create_invitation(session, f, campaign, actor)[1]) for f in facilities]
