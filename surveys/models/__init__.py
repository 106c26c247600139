"""SQLModel tables of the survey domain, and the read models shown from them."""

from surveys.models.api_token import ApiToken
from surveys.models.audit import AuditEvent
from surveys.models.campaign import MAIL_KINDS, MAIL_STATUSES, Campaign, Invitation, MailMessage
from surveys.models.clinic_access import (
    CORRECTION_FIELDS,
    CORRECTION_STATUSES,
    FacilityCorrection,
    SignInLink,
)
from surveys.models.facility import (
    CONTACT_KINDS,
    FACILITY_CATEGORIES,
    FACILITY_KINDS,
    Facility,
    FacilityBase,
    FacilityPublic,
)
from surveys.models.import_edition import ImportEdition
from surveys.models.key_mark import KeyMark
from surveys.models.outbox import IndexOutbox
from surveys.models.pulse import CAPACITY_CODES, PulseAnswer, PulseMail, PulseRound
from surveys.models.questionnaire import QuestionnaireVersion
from surveys.models.ratelimit import RateLimitCounter
from surveys.models.referral import OUTCOME_CODES, Referral
from surveys.models.report import REPORT_REASONS, AccessReport
from surveys.models.response import SurveyResponse
from surveys.models.types import utcnow
from surveys.models.user import ROLES, User, UserFacility

__all__ = [
    "CAPACITY_CODES",
    "CONTACT_KINDS",
    "CORRECTION_FIELDS",
    "CORRECTION_STATUSES",
    "FACILITY_CATEGORIES",
    "FACILITY_KINDS",
    "MAIL_KINDS",
    "MAIL_STATUSES",
    "OUTCOME_CODES",
    "REPORT_REASONS",
    "ROLES",
    "AccessReport",
    "ApiToken",
    "AuditEvent",
    "Campaign",
    "Facility",
    "FacilityBase",
    "FacilityCorrection",
    "FacilityPublic",
    "ImportEdition",
    "IndexOutbox",
    "Invitation",
    "KeyMark",
    "MailMessage",
    "PulseAnswer",
    "PulseMail",
    "PulseRound",
    "QuestionnaireVersion",
    "RateLimitCounter",
    "Referral",
    "SignInLink",
    "SurveyResponse",
    "User",
    "UserFacility",
    "utcnow",
]
