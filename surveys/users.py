"""User management: invite, change role or organisation, disable, link clinic facilities.

No request globals: every operation takes the session and the acting `Actor`, records an audit
event for what it changed, and leaves the commit to the caller. Repeating an operation that is
already in effect (a double post) changes nothing and records nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlmodel import Session, col, or_, select

from surveys import audit
from surveys.database import hold_write_lock
from surveys.errors import SurveyError
from surveys.models import ROLES, Facility, User, UserFacility

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SEARCH_LIMIT = 20


class UserAdminError(SurveyError):
    """A user change was refused; the message says why."""

    status = 409


class UnknownUser(UserAdminError):
    """No user with that id or address."""

    status = 404
    message_ja = "ユーザーが見つかりません。"
    message_en = "No such user."


class DuplicateUser(UserAdminError):
    """The address already belongs to a user."""

    message_ja = "このメールアドレスのユーザーは既に登録されています。"
    message_en = "A user with this e-mail address already exists."


class InvalidUserData(UserAdminError):
    """An address or role that cannot be used."""

    status = 400


class UnknownFacility(UserAdminError):
    """The facility to link does not exist."""

    status = 404

    def __init__(self, facility_id: object):
        super().__init__(
            f"ID {facility_id} の医療機関はありません。",
            f"There is no facility with id {facility_id}.",
        )


class NotClinicUser(UserAdminError):
    """Only clinic users answer for facilities."""

    message_ja = "医療機関を紐づけられるのは医療機関ユーザーだけです。"
    message_en = "Only clinic users can be linked to facilities."


class LastAdminError(UserAdminError):
    """The change would leave nobody able to administer the system."""

    message_ja = (
        "最後の有効な管理者は無効化や権限変更ができません。先に別の管理者を追加してください。"
    )
    message_en = (
        "The last active admin cannot be disabled or given another role. Add another admin first."
    )


class SelfDisableError(UserAdminError):
    """An admin may not lock themselves out."""

    message_ja = "自分自身のアカウントは無効化できません。別の管理者に依頼してください。"
    message_en = "You cannot disable your own account. Ask another admin."


def canonical_email(value: str) -> str:
    """Return the canonical form of an address: trimmed and lower-cased, not checked."""
    return (value or "").strip().lower()


def valid_email(email: str) -> str:
    """Return the canonical address, or raise InvalidUserData when it is not an address."""
    address = canonical_email(email)
    if not EMAIL_RE.match(address) or len(address) > 254:
        raise InvalidUserData(
            "メールアドレスの形式が正しくありません。", "The e-mail address is not valid."
        )
    return address


def get_user(session: Session, user_id: int) -> User:
    """Return the user with this id or raise UnknownUser."""
    user = session.get(User, user_id)
    if user is None:
        raise UnknownUser()
    return user


def find_user(session: Session, email: str) -> User:
    """Return the user with this address or raise UnknownUser."""
    user = session.exec(select(User).where(User.email == canonical_email(email))).first()
    if user is None:
        raise UnknownUser()
    return user


def check_new_address(session: Session, email: str) -> None:
    """Refuse an address that already belongs to a user (DuplicateUser)."""
    if session.exec(select(User).where(User.email == canonical_email(email))).first() is not None:
        raise DuplicateUser()


def list_users(session: Session, role: str | None = None) -> list[User]:
    """Return users ordered by role then address, optionally of one role."""
    query = select(User).order_by(col(User.role), col(User.email))
    if role:
        query = query.where(User.role == role)
    return list(session.exec(query))


def invite_user(
    session: Session,
    actor: audit.Actor,
    email: str,
    role: str,
    display_name: str = "",
    organisation: str = "",
    municipality_code: str = "",
    facility_ids: Iterable[int] = (),
) -> User:
    """Create an active user without a usable password (a set-up link sets it)."""
    address = valid_email(email)
    _check_role(role)
    check_new_address(session, address)
    ids = sorted(set(facility_ids)) if role == "clinic" else []
    for facility_id in ids:
        _facility(session, facility_id)
    user = User(
        email=address,
        role=role,
        display_name=(display_name or "").strip(),
        organisation=(organisation or "").strip(),
        municipality_code=(municipality_code or "").strip(),
    )
    session.add(user)
    session.flush()
    session.add_all(UserFacility(user_id=user.id, facility_id=fid) for fid in ids)
    audit.record(
        session,
        actor,
        "user.invite",
        user,
        email=address,
        role=role,
        organisation=user.organisation,
        municipality_code=user.municipality_code,
        facility_ids=ids,
    )
    return user


def change_role(session: Session, actor: audit.Actor, user: User, role: str) -> User:
    """Give the user another role; the last active admin keeps theirs."""
    _check_role(role)
    if role == user.role:
        return user
    if user.role == "admin" and user.is_active:
        _keep_an_admin(session, user)
    before = user.role
    user.role = role
    session.add(user)
    audit.record(session, actor, "user.role_change", user, changes={"role": [before, role]})
    return user


def set_organisation(
    session: Session,
    actor: audit.Actor,
    user: User,
    organisation: str,
    municipality_code: str,
    display_name: str | None = None,
) -> User:
    """Change the user's organisation, municipality and (optionally) name."""
    wanted = {
        "organisation": (organisation or "").strip(),
        "municipality_code": (municipality_code or "").strip(),
    }
    if display_name is not None:
        wanted["display_name"] = display_name.strip()
    changes = {k: [getattr(user, k), v] for k, v in wanted.items() if getattr(user, k) != v}
    if not changes:
        return user
    for key, (_before, after) in changes.items():
        setattr(user, key, after)
    session.add(user)
    audit.record(session, actor, "user.organisation_change", user, changes=changes)
    return user


def reset_two_factor(session: Session, actor: audit.Actor, user: User) -> User:
    """Forget the user's authenticator (a lost phone) and end their sessions; an admin sets up
    a new one at the next sign-in, staff may."""
    if not user.totp_secret:
        return user
    user.totp_secret = ""
    user.session_epoch += 1
    session.add(user)
    audit.record(session, actor, "user.two_factor_reset", user)
    return user


def disable_user(session: Session, actor: audit.Actor, user: User) -> User:
    """Disable the account and end its sessions at once (the session epoch moves on)."""
    if not user.is_active:
        return user
    if actor.user_id is not None and actor.user_id == user.id:
        raise SelfDisableError()
    if user.role == "admin":
        _keep_an_admin(session, user)
    user.is_active = False
    user.session_epoch += 1
    session.add(user)
    audit.record(session, actor, "user.disable", user, changes={"is_active": [True, False]})
    return user


def enable_user(session: Session, actor: audit.Actor, user: User) -> User:
    """Let a disabled account sign in again."""
    if user.is_active:
        return user
    user.is_active = True
    session.add(user)
    audit.record(session, actor, "user.enable", user, changes={"is_active": [False, True]})
    return user


def linked_facilities(session: Session, user: User) -> list[Facility]:
    """Return the facilities a clinic user answers for, by name."""
    query = (
        select(Facility)
        .join(UserFacility, col(UserFacility.facility_id) == col(Facility.id))
        .where(UserFacility.user_id == user.id)
        .order_by(col(Facility.name))
    )
    return list(session.exec(query))


def link_facility(session: Session, actor: audit.Actor, user: User, facility_id: int) -> Facility:
    """Let a clinic user answer for a facility."""
    if user.role != "clinic":
        raise NotClinicUser()
    facility = _facility(session, facility_id)
    if session.get(UserFacility, (user.id, facility.id)) is None:
        session.add(UserFacility(user_id=user.id, facility_id=facility.id))
        audit.record(
            session, actor, "user.facility_link", user, facility_id=facility.id, name=facility.name
        )
    return facility


def unlink_facility(session: Session, actor: audit.Actor, user: User, facility_id: int) -> None:
    """Stop a clinic user answering for a facility."""
    link = session.get(UserFacility, (user.id, facility_id))
    if link is None:
        return
    session.delete(link)
    audit.record(session, actor, "user.facility_unlink", user, facility_id=facility_id)


def search_facilities(session: Session, text: str, limit: int = SEARCH_LIMIT) -> list[Facility]:
    """Return facilities whose name or kana contains the text (for linking)."""
    needle = (text or "").strip()
    if not needle:
        return []
    pattern = f"%{needle}%"
    query = (
        select(Facility)
        .where(or_(col(Facility.name).like(pattern), col(Facility.kana).like(pattern)))
        .order_by(col(Facility.name))
        .limit(limit)
    )
    return list(session.exec(query))


def _facility(session: Session, facility_id: int) -> Facility:
    """Return an existing facility or raise UnknownFacility."""
    facility = session.get(Facility, facility_id)
    if facility is None:
        raise UnknownFacility(facility_id)
    return facility


def _check_role(role: str) -> None:
    """Refuse a role the system does not know."""
    if role not in ROLES:
        raise InvalidUserData(f"不明な権限です: {role}", f"Unknown role: {role}")


def _keep_an_admin(session: Session, leaving: User) -> None:
    """Refuse when no other active admin would remain (two admins demoting each other at once
    are serialised: the admin rows are locked, or on SQLite the database write lock held)."""
    hold_write_lock(session.connection())
    admins = session.exec(
        select(User.id).where(User.role == "admin", col(User.is_active).is_(True)).with_for_update()
    ).all()
    if not set(admins) - {leaving.id}:
        raise LastAdminError()
