"""Clinic portal: invitation links, answering and confirming the survey."""

from search_app.clinic.views import bp

__all__ = ["bp"]
