"""Account pages reached from e-mail: choosing a password through a set-up link."""

from search_app.account.views import bp

__all__ = ["bp"]
