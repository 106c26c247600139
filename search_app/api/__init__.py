"""JSON API v1 and the health check."""

from search_app.api.views import bp, health_bp, init_app

__all__ = ["bp", "health_bp", "init_app"]
