"""Clinic portal: invitation links, answering and confirming the survey, coming back, the
capacity pulse."""

from search_app.clinic import details  # noqa: F401  (registers the details page on bp)
from search_app.clinic.access import bp as access_bp
from search_app.clinic.pulse import bp as pulse_bp
from search_app.clinic.views import bp

__all__ = ["access_bp", "bp", "pulse_bp"]
