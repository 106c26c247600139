"""Forms of the facility page and the shortlist (labels in templates)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from search_app.facilities.shortlist import NOTE_MAX
from search_app.forms import BoundedIntegerField, strip
from surveys.models import REPORT_REASONS
from surveys.reports import COMMENT_MAX, reason_label


def _plain_text(limit: int):
    """Validator: at most `limit` characters, no control characters but new lines and tabs."""

    def check(_form, field) -> None:
        text = (field.data or "").replace("\r\n", "\n")
        if len(text) > limit:
            raise ValidationError(_("%(limit)s文字以内で入力してください。", limit=limit))
        if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
            raise ValidationError(_("使用できない文字が含まれています。"))

    return check


class FacilityForm(FlaskForm):
    """A button acting on one facility."""

    # Bounded: a huge number would overflow the database driver (a 500, not a 400).
    facility_id = BoundedIntegerField(validators=[InputRequired()])


class AddForm(FacilityForm):
    """Add a facility to the shortlist, then go back to `next` (a path on this site)."""

    next = HiddenField()

    def safe_next(self, default: str) -> str:
        """Return `next` when it is a path on this site, else the default."""
        target = (self.next.data or "").strip()
        parts = urlsplit(target)
        local = target.startswith("/") and not target.startswith("//") and "\\" not in target
        return target if local and not parts.scheme and not parts.netloc else default


class NoteForm(FacilityForm):
    """The nurse's note on a shortlisted facility and whether to print it."""

    note = TextAreaField(filters=[strip], validators=[_plain_text(NOTE_MAX)])
    print_note = BooleanField()


class ReportForm(FlaskForm):
    """'Could not get an appointment': a reason and an optional short comment."""

    reason = RadioField(validators=[DataRequired()])
    comment = TextAreaField(filters=[strip], validators=[_plain_text(COMMENT_MAX)])

    def __init__(self, *args, lang: str = "ja", **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = [(r, reason_label(r, lang)) for r in REPORT_REASONS]
