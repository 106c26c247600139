"""Admin area (programme office): dashboard, campaigns, coverage, exports, users, audit log."""

from search_app.admin import (  # noqa: F401
    audit,
    campaigns,
    corrections,
    dashboard,
    exports,
    facilities,
    imports,
    signals,
    users,
)
from search_app.admin.views import bp

__all__ = ["bp"]
