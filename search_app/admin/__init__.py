"""Admin area (programme office): for now the list of access reports."""

from search_app.admin.views import bp

__all__ = ["bp"]
