"""Geography errors; each carries a message that is safe to show to the user (ja / en)."""

from __future__ import annotations

from collections.abc import Sequence


class GeocodeError(Exception):
    """A place could not be located; `message_ja` / `message_en` are safe to show."""

    status = 422

    def __init__(self, message_ja: str, message_en: str):
        self.message_ja = message_ja
        self.message_en = message_en
        super().__init__(message_en)

    def message(self, lang: str = "ja") -> str:
        """Return the message in the given language."""
        return self.message_en if lang == "en" else self.message_ja


class AddressNotUnderstood(GeocodeError):
    """The text is not an address, station, postal code or municipality we know.

    `suggestions` holds close names (possibly empty) that the user may have meant.
    """

    def __init__(self, query: str, suggestions: Sequence[str] = (), reason_ja: str = ""):
        self.query = query
        self.suggestions = tuple(suggestions)
        shown = query if len(query) <= 40 else query[:40] + "…"
        ja = f"「{shown}」の場所がわかりませんでした。{reason_ja}"
        ja += "住所・駅名・郵便番号・区市町村名のいずれかで入力してください。"
        en = f"Could not locate “{shown}”. "
        en += "Enter an address, a station, a postal code or a municipality."
        if self.suggestions:
            ja += f" もしかして: {'、'.join(self.suggestions)}"
            en += f" Did you mean: {', '.join(self.suggestions)}?"
        super().__init__(ja, en)
