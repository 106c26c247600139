"""The programme office's contact details, as mails, letters and dead-end pages show them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from surveys.bilingual import bilingual

DEFAULT_NAME = "東京都 妊産婦メンタルヘルス対策事業 事務局"


@dataclass(frozen=True)
class OfficeContact:
    """Name, phone, e-mail and opening hours of the office (empty parts are left out)."""

    name: str = DEFAULT_NAME
    phone: str = ""
    email: str = ""
    hours: str = ""

    @classmethod
    def from_config(cls, config: Mapping) -> OfficeContact:
        """Read OFFICE_NAME, _PHONE, _EMAIL and _HOURS from the app's configuration."""
        return cls(
            name=str(config["OFFICE_NAME"] or DEFAULT_NAME),
            phone=str(config["OFFICE_PHONE"] or ""),
            email=str(config["OFFICE_EMAIL"] or ""),
            hours=str(config["OFFICE_HOURS"] or ""),
        )

    def lines(self, lang: str = "ja") -> list[str]:
        """Return the contact as lines of text: name, then phone, e-mail and hours if known."""
        labels = bilingual(lang, ("電話", "メール", "受付時間"), ("Phone", "E-mail", "Hours"))
        values = (self.phone, self.email, self.hours)
        return [self.name] + [f"{label}: {v}" for label, v in zip(labels, values, strict=True) if v]

    def text(self, lang: str = "ja") -> str:
        """Return the contact as one block of text for mails."""
        return "\n".join(self.lines(lang))
