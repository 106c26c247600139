"""Search-domain exceptions; each carries a message that is safe to show to the user."""

from __future__ import annotations

from collections.abc import Sequence

from surveys.errors import UserFacingError


class IndexDomainError(UserFacingError):
    """Base class of the search domain's errors (user-safe ja/en messages)."""


class GeocodeError(IndexDomainError):
    """A place could not be located."""


class AddressNotUnderstood(GeocodeError):
    """The text is not an address, station, postal code or municipality we know.

    `suggestions` holds close names (possibly empty) that the user may have meant.
    """

    status = 422

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


class InvalidParameter(IndexDomainError):
    """A search parameter has a value we cannot use; `field` names the parameter."""

    status = 400

    def __init__(
        self, field: str, message_ja: str, message_en: str, code: str = "invalid_parameter"
    ):
        self.field = field
        # The API's error code: invalid_parameter (malformed), or one naming a data check.
        self.code = code
        super().__init__(message_ja, message_en)


class IndexUnavailable(IndexDomainError):
    """The search index is missing, being rebuilt or unreadable."""

    status = 503
    message_ja = "検索の準備中です。しばらくしてからもう一度お試しください。"
    message_en = "Search is being prepared. Please try again in a moment."
