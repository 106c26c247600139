"""Admin area (programme office): dashboard, campaigns, coverage, exports, users, audit log."""

from search_app.admin import audit, campaigns, dashboard, exports, imports, users  # noqa: F401
from search_app.admin.views import bp

__all__ = ["bp"]
