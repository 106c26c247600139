"""Invitation links: create, look up and redeem (single use, expiring with the campaign)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select, update

from surveys import audit
from surveys.errors import InvitationError, InvitationExpired, InvitationUsed
from surveys.models import Campaign, Facility, Invitation, utcnow
from surveys.tokens import hash_token, new_token


def create_invitation(
    session: Session,
    facility: Facility,
    campaign: Campaign,
    actor: audit.Actor,
    email: str = "",
    channel: str = "link",
    token: str | None = None,
) -> tuple[Invitation, str]:
    """Create an invitation; return it with the clear token, which is never stored."""
    token = token or new_token()
    invitation = Invitation(
        facility_id=facility.id,
        campaign_id=campaign.id,
        token_hash=hash_token(token),
        email=email,
        channel=channel,
    )
    session.add(invitation)
    session.flush()
    audit.record(session, actor, "invitation.create", facility, campaign=campaign.id)
    return invitation, token


def find_invitation(session: Session, token: str, now: datetime | None = None) -> Invitation:
    """Return the usable invitation for this token or raise why it cannot be used."""
    if not token or len(token) > 100:
        raise InvitationError()
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    ).first()
    if invitation is None:
        raise InvitationError()
    if invitation.used_at is not None:
        raise InvitationUsed()
    if not campaign_open(session, invitation, now):
        raise InvitationExpired()
    return invitation


def redeem_invitation(session: Session, token: str, now: datetime | None = None) -> Invitation:
    """Mark the invitation used; of two simultaneous redemptions only one succeeds."""
    moment = now or utcnow()
    invitation = find_invitation(session, token, moment)
    result = session.exec(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=moment)
    )
    if result.rowcount != 1:
        raise InvitationUsed()
    session.refresh(invitation)
    label = f"invitation:{invitation.id}"
    audit.record(
        session,
        audit.Actor(label, invitation_id=invitation.id),
        "invitation.redeem",
        invitation,
        facility=invitation.facility_id,
    )
    return invitation


def invitation_expires_at(session: Session, invitation: Invitation) -> datetime:
    """Return when the invitation's campaign closes."""
    return session.get(Campaign, invitation.campaign_id).closes_at


def campaign_open(session: Session, invitation: Invitation, now: datetime | None = None) -> bool:
    """Tell whether the invitation's campaign still takes answers (not closed, not past)."""
    campaign = session.get(Campaign, invitation.campaign_id)
    return not campaign.closed and (now or utcnow()) < campaign.closes_at
