"""The search form: a mother's situation and the conditions that matter, as GET parameters."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.widgets import CheckboxInput, ListWidget

from index.filters import MAX_MONTHS_POSTPARTUM, filter_items
from surveys.questionnaire import Questionnaire

# Filter items the form asks about up front (the rest go under "more conditions").
UP_FRONT = {
    "pregnant_patients",
    "postpartum_patients",
    "pregnant",
    "postpartum",
    "pregnant_trimester",
    "pregnancy_rx",
    "breastfeeding_rx",
    "new_patients",
    "wait_days",
    "baby_ok",
}
RADII = ("2", "5", "10", "20", "50")
WAITS = ("7", "14", "30", "60")


class SearchFormBase(FlaskForm):
    """Fields every search has; GET forms need no CSRF token."""

    class Meta:
        csrf = False

    near = StringField()
    q = StringField()
    lat = HiddenField()
    lng = HiddenField()
    radius_km = SelectField(default="10", validate_choice=False)
    situation = SelectMultipleField(
        validate_choice=False, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )
    trimester = SelectField(default="", validate_choice=False)
    months_postpartum = SelectField(default="", validate_choice=False)
    breastfeeding = BooleanField()
    needs_rx = BooleanField()
    existing_patient = BooleanField()
    include_declined = HiddenField()
    partner_of = HiddenField()  # a referring obstetric unit's page asks to prefer its partners
    place_municipality = HiddenField()  # that unit's municipality (its contact points)
    max_wait_days = SelectField(default="", validate_choice=False)
    baby_ok = BooleanField()
    sort = SelectField(default="", validate_choice=False)


def build_search_form(questionnaire: Questionnaire, formdata):
    """Return the search form with labels in the current language and one field per extra filter."""
    attrs = {}
    extra = [item for item in filter_items(questionnaire) if item.key not in UP_FRONT]
    for item in extra:
        attrs[item.search_param] = SelectMultipleField(
            choices=[SelectChoice(c.value, c.label(_lang())) for c in item.choices],
            validate_choice=False,
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
            description=item.label(_lang()),
        )
    form_class = type("SearchForm", (SearchFormBase,), attrs)
    form = form_class(formdata=formdata)
    form.extra_filters = [(item, form[item.search_param]) for item in extra]
    form.more_open = bool(form.q.data) or any(field.data for _item, field in form.extra_filters)
    _label(form, questionnaire)
    return form


def _lang() -> str:
    """Return the current language."""
    from search_app.i18n import current_lang

    return current_lang()


def _label(form, questionnaire: Questionnaire) -> None:
    """Set the labels and choices of the fixed fields in the current language."""
    form.near.label.text = _("場所（住所・駅名・郵便番号・区市町村）")
    form.q.label.text = _("医療機関名・キーワード")
    form.radius_km.label.text = _("範囲")
    form.radius_km.choices = [SelectChoice(r, f"{r} km") for r in RADII]
    _label_situation(form, questionnaire)
    form.max_wait_days.label.text = _("初診までの待ち日数")
    form.max_wait_days.choices = [SelectChoice("", _("指定しない"))] + [
        SelectChoice(w, _("%(w)s日以内", w=w)) for w in WAITS
    ]
    form.baby_ok.label.text = _("赤ちゃん連れで受診できる")
    form.sort.label.text = _("並び順")
    form.sort.choices = [
        SelectChoice("", _("おすすめ順")),
        SelectChoice("distance", _("近い順")),
        SelectChoice("wait", _("待ち日数が短い順")),
        SelectChoice("name", _("名前順")),
        SelectChoice("relevance", _("キーワードに合う順")),
    ]


def _label_situation(form, questionnaire: Questionnaire) -> None:
    """Set the labels of the mother's situation, in the nurse's words."""
    form.situation.label.text = _("お母さんの状況")
    form.situation.choices = [
        SelectChoice("pregnant", _("妊娠中")),
        SelectChoice("postpartum", _("産後1年以内")),
    ]
    trimester = questionnaire.item("pregnant_trimester")
    form.trimester.label.text = _("妊娠時期")
    form.trimester.choices = [SelectChoice("", _("指定しない"))] + [
        SelectChoice(c.value, c.label(_lang())) for c in trimester.choices
    ]
    form.months_postpartum.label.text = _("出産後の月数")
    form.months_postpartum.choices = [SelectChoice("", _("指定しない"))] + [
        SelectChoice(str(m), _("%(m)dか月", m=m)) for m in range(MAX_MONTHS_POSTPARTUM + 1)
    ]
    form.breastfeeding.label.text = _("授乳中")
    form.needs_rx.label.text = _("服薬が必要（妊娠中・授乳中の処方に対応）")
    form.existing_patient.label.text = _("すでにその医療機関に通院中（再診）")


PLACE_FIELDS = ("near", "lat", "lng", "place_municipality")


def to_params(form) -> dict[str, str]:
    """Translate the form into search parameters (the JSON API's names)."""
    params = {
        name: (form[name].data or "").strip()
        for name in (*PLACE_FIELDS, "q", "radius_km", "max_wait_days", "sort", "partner_of")
    }
    _situation_params(form, params)
    if form.baby_ok.data:
        params["baby_ok"] = "yes,conditional"
    for item, field in form.extra_filters:
        if field.data:
            params[item.search_param] = ",".join(field.data)
    return {k: v for k, v in params.items() if v}


def _situation_params(form, params: dict[str, str]) -> None:
    """Turn the mother's situation into the API's situation parameters."""
    params["situation"] = list(form.situation.data or [])  # repeated, as in the API
    params["trimester"] = (form.trimester.data or "").strip()
    params["months_postpartum"] = (form.months_postpartum.data or "").strip()
    params["breastfeeding"] = "true" if form.breastfeeding.data else ""
    params["needs_rx"] = "true" if form.needs_rx.data else ""
    params["new_patient"] = "false" if form.existing_patient.data else ""
    params["include_declined"] = (form.include_declined.data or "").strip()


def has_search(args) -> bool:
    """Tell whether the page was opened with a search (not just the empty form)."""
    return any(v.strip() for k, v in args.items(multi=True) if k not in ("lang", "page"))


def situation_summary(params: dict[str, str]) -> str:
    """Say in one line whose situation the results accept (shown above the results)."""
    kinds = [k for k in ("pregnant", "postpartum") if k in params.get("situation", "")]
    words = [_("妊娠中") if k == "pregnant" else _("産後") for k in kinds] or [
        _("妊娠中または産後")
    ]
    if params.get("breastfeeding"):
        words.append(_("授乳中"))
    if params.get("needs_rx"):
        words.append(_("服薬が必要"))
    words.append(_("通院中") if params.get("new_patient") == "false" else _("新規受診"))
    joined = _("・").join(words).lower()  # English labels are capitalised on their own
    if params.get("include_declined"):
        return _(
            "%(who)sの方を受け入れている医療機関を先に、その他を後に表示しています。", who=joined
        )
    return _("%(who)sの方を受け入れている医療機関を表示しています。", who=joined)
