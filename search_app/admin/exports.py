"""Admin exports page: choose format, language, audience and columns; download the file.

The export itself, and its audit event (`export.facilities`, with the options and the row
count), is `surveys.exports.export_facilities`; this page records nothing more.
"""

from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice

from search_app import db
from search_app.admin.views import attachment, bp
from search_app.auth import current_principal
from search_app.forms import CheckboxesField
from search_app.i18n import current_lang
from search_app.questionnaire import EDITION_LABELS, EDITION_SETTINGS, current_questionnaire
from surveys.bilingual import bilingual
from surveys.exports import ExportError, ExportOptions, export_facilities
from surveys.exports.options import MASTER_COLUMNS
from surveys.questionnaire import Questionnaire

PROFESSIONAL_MARK = lazy_gettext("（関係機関のみ）")


class ExportForm(FlaskForm):
    """Export options; the choices are checked together against the questionnaire."""

    file_format = RadioField(
        lazy_gettext("形式"),
        choices=[
            SelectChoice("csv", "CSV"),
            SelectChoice("xlsx", "Excel (XLSX)"),
            SelectChoice("hsds", lazy_gettext("HSDS形式のJSON（列は選べません）")),
        ],
        default="csv",
    )
    lang = RadioField(
        lazy_gettext("見出しと値の言語"),
        choices=[
            SelectChoice("ja", lazy_gettext("日本語")),
            SelectChoice("en", lazy_gettext("英語")),
        ],
        default="ja",
    )
    audience = RadioField(
        lazy_gettext("範囲"),
        choices=[
            SelectChoice("public", lazy_gettext("一般公開の医療機関と項目のみ")),
            SelectChoice("all", lazy_gettext("すべて（関係機関向けの医療機関と項目を含む）")),
        ],
        default="public",
    )
    columns = CheckboxesField(lazy_gettext("列（選ばないときは、範囲で見られるすべての列）"))

    def __init__(self, questionnaire: Questionnaire, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.questionnaire = questionnaire
        self.columns.choices = column_choices(questionnaire, current_lang())

    def options(self) -> ExportOptions:
        """Return the chosen options."""
        return ExportOptions(
            format=self.file_format.data,
            audience=self.audience.data,
            lang=self.lang.data,
            columns=tuple(self.columns.data or ()),
        )

    def validate(self, extra_validators=None) -> bool:
        """Check each field, then the combination (columns with HSDS, items for the public)."""
        if not super().validate(extra_validators):
            return False
        try:
            self.options().check(self.questionnaire)
        except ExportError as exc:
            self.form_errors.append(exc.message(current_lang()))
            return False
        return True


def column_choices(questionnaire: Questionnaire, lang: str) -> list[SelectChoice]:
    """Return a choice for every column: master fields, then items by section."""
    master = [SelectChoice(key, bilingual(lang, ja, en)) for key, ja, en in MASTER_COLUMNS]
    sections = {s.key: s.title(lang) for s in questionnaire.sections}
    items = [
        SelectChoice(
            item.key,
            f"{sections[item.section]}: {item.label(lang)}"
            + (str(PROFESSIONAL_MARK) if item.professional_only else ""),
        )
        for item in questionnaire.items
    ]
    return master + items


@bp.route("/exports", methods=["GET", "POST"])
def exports():
    """Show the export form; a valid POST returns the file and records the export.

    `?for=obstetric` or `?for=municipal` exports a hearing's facilities and answers instead.
    """
    category = request.args.get("for", "psychiatric")
    if category not in EDITION_SETTINGS:
        abort(404)
    questionnaire = current_questionnaire(category)
    form = ExportForm(questionnaire)
    if form.validate_on_submit():
        session = db.session()
        export = export_facilities(
            session, questionnaire, form.options(), current_principal().actor
        )
        session.commit()
        return attachment(export.content, export.media_type, export.filename)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/exports.html", form=form, category=category, editions=EDITION_LABELS
    ), status
