"""Clinic portal: invitation links, answering and confirming the survey, the capacity pulse."""

from search_app.clinic.pulse import bp as pulse_bp
from search_app.clinic.views import bp

__all__ = ["bp", "pulse_bp"]
