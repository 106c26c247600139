"""Recording audit events (no request globals: the caller passes the actor)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from surveys.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, an invitation, or the command line."""

    label: str
    user_id: int | None = None
    invitation_id: int | None = None


CLI_ACTOR = Actor(label="cli")


def record(
    session: Session, actor: Actor, action: str, target: Any = None, **detail: Any
) -> AuditEvent:
    """Add an audit event to the session; the caller's commit stores it with the change."""
    event = AuditEvent(
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=str(getattr(target, "id", "") or ""),
        detail=detail,
    )
    session.add(event)
    return event
