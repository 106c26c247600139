"""Search-domain exceptions; each carries a message that is safe to show to the user."""

from __future__ import annotations

from surveys.errors import UserFacingError


class IndexDomainError(UserFacingError):
    """Base class of the search domain's errors (user-safe ja/en messages)."""


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
