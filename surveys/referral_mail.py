"""Optional mail: tell referrers that outcome questions became due today (no patient data).

Only referrals whose question becomes due on the day of the run are counted, so a daily run
mails each referrer at most once per referral day and keeps no state; the question itself is
always on the start page.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from string import Template

from sqlmodel import Session, col, select

from surveys.mail import MailSettings, build_message, open_transport
from surveys.models import Referral, User
from surveys.operations import today_in_japan
from surveys.referrals import FOLLOW_UP_DAYS

TEMPLATES = Path(__file__).parent / "mail" / "templates"


def due_today(session: Session, now: datetime | None = None) -> dict[int, int]:
    """Return {referrer user id: questions that became due today}."""
    referred_on = today_in_japan(now) - timedelta(days=FOLLOW_UP_DAYS)
    query = select(Referral.referrer_user_id).where(
        Referral.referred_on == referred_on, Referral.outcome == ""
    )
    return dict(Counter(session.exec(query)))


def mail_due_questions(
    session: Session, settings: MailSettings, base_url: str, now: datetime | None = None
) -> int:
    """Mail each active referrer with questions due today a short note; return mails sent."""
    counts = due_today(session, now)
    users = session.exec(
        select(User).where(col(User.id).in_(list(counts)), col(User.is_active))
    ).all()
    link = f"{base_url.rstrip('/')}/referrals/"
    with open_transport(settings) as transport:
        for user in users:
            subject, body = _render(counts[user.id], link)
            transport.send(build_message(settings, user.email, subject, body))
    return len(users)


def _render(count: int, link: str) -> tuple[str, str]:
    """Return (subject, body) of the note (the template's first line is the subject)."""
    text = (TEMPLATES / "ja" / "outcome_question.txt").read_text(encoding="utf-8")
    filled = Template(text).safe_substitute(count=count, days=FOLLOW_UP_DAYS, link=link)
    subject, _, body = filled.partition("\n")
    return subject.strip(), body.lstrip("\n")
