"""What an export holds: format, audience, language and columns, checked before any work."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.errors import SurveyError
from surveys.questionnaire import Questionnaire

FORMATS = ("csv", "xlsx", "hsds")
AUDIENCES = ("public", "all")
LANGUAGES = ("ja", "en")

# Facility master columns, in export order: (key, Japanese header, English header).
MASTER_COLUMNS = (
    ("id", "管理ID", "ID"),
    ("source_id", "施設ID", "Source ID"),
    ("name", "施設名", "Name"),
    ("kana", "フリガナ", "Kana"),
    ("kind", "種別", "Kind"),
    ("address", "所在地", "Address"),
    ("postal_code", "郵便番号", "Postal code"),
    ("municipality_code", "市区町村コード", "Municipality code"),
    ("lat", "緯度", "Latitude"),
    ("lng", "経度", "Longitude"),
    ("phone", "電話番号", "Phone"),
    ("website", "ホームページ", "Website"),
    ("verified_on", "最終確認日", "Verified on"),
)
MASTER_KEYS = tuple(key for key, _ja, _en in MASTER_COLUMNS)


class ExportError(SurveyError):
    """The export was asked with options it cannot honour."""


@dataclass(frozen=True)
class ExportOptions:
    """Format, audience ('public': public listings and public items only), language, columns."""

    format: str
    audience: str = "public"
    lang: str = "ja"
    columns: tuple[str, ...] = ()

    @property
    def professional(self) -> bool:
        """Tell whether the export may hold professional-only facilities and items."""
        return self.audience == "all"

    def check(self, questionnaire: Questionnaire) -> None:
        """Raise ExportError for an unknown format, audience, language or column."""
        _one_of("format", self.format, FORMATS)
        _one_of("audience", self.audience, AUDIENCES)
        _one_of("lang", self.lang, LANGUAGES)
        if questionnaire.respondent != "psychiatric" and not self.professional:
            raise ExportError(
                "ヒアリングの回答は公開しないため、範囲「すべて」でのみ書き出せます。",
                "Hearing answers are not public: export them with the audience 'all' only.",
            )
        if self.columns and self.format == "hsds":
            raise ExportError(
                "HSDS形式では列を選べません。", "Columns cannot be chosen for the HSDS format."
            )
        _check_columns(self, questionnaire)

    def column_keys(self, questionnaire: Questionnaire) -> tuple[str, ...]:
        """Return the chosen column keys, or every column this audience may see."""
        if self.columns:
            return self.columns
        items = [i.key for i in questionnaire.items if self.professional or not i.professional_only]
        return (*MASTER_KEYS, *items)


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    """Refuse a value outside the allowed ones."""
    if value not in allowed:
        choices = ", ".join(allowed)
        raise ExportError(
            f"{name} は {choices} のいずれかを指定してください（{value!r}）。",
            f"{name} must be one of {choices}, not {value!r}.",
        )


def _check_columns(options: ExportOptions, questionnaire: Questionnaire) -> None:
    """Refuse unknown or repeated columns, and professional-only items in a public export."""
    items = {item.key: item for item in questionnaire.items}
    unknown = [c for c in options.columns if c not in MASTER_KEYS and c not in items]
    if unknown:
        raise ExportError(
            f"不明な列があります: {', '.join(unknown)}", f"Unknown columns: {', '.join(unknown)}"
        )
    if len(set(options.columns)) != len(options.columns):
        raise ExportError("同じ列が2回指定されています。", "A column is named twice.")
    hidden = [c for c in options.columns if c in items and items[c].professional_only]
    if hidden and not options.professional:
        raise ExportError(
            f"関係機関向けの項目は一般公開用の出力に含められません: {', '.join(hidden)}",
            f"Professional-only items cannot go into a public export: {', '.join(hidden)}",
        )
