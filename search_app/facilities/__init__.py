"""Referral work: facility page, staff shortlist (print, share), access reports, referral
outcomes."""

from __future__ import annotations

from flask import Flask

from search_app import db
from search_app.facilities import display
from search_app.facilities.referral_views import bp as referrals_bp
from search_app.facilities.referral_views import due_outcome_questions
from search_app.facilities.shortlist_views import bp as shortlist_bp
from search_app.facilities.views import bp
from surveys import referrals, reports

__all__ = ["add_template_helpers", "bp", "referrals_bp", "shortlist_bp"]


def add_template_helpers(app: Flask) -> None:
    """Offer the facility pages' filters and globals to every template."""
    app.add_template_filter(display.tel_href, "tel_href")
    app.add_template_filter(display.website_href, "website_href")
    app.add_template_filter(display.map_href, "map_href")
    app.add_template_filter(display.japan_date, "japan_date")
    app.add_template_filter(display.join_list, "join_list")
    app.add_template_filter(display.facility_name, "facility_name")
    app.add_template_global(open_access_reports)
    app.add_template_global(reports.reason_label, "report_reason_label")
    app.add_template_global(display.capacity_label, "capacity_label")
    app.add_template_global(display.capacity_fresh, "capacity_fresh")
    app.add_template_global(display.linked_facilities)
    app.add_template_filter(display.month_day, "mdate")
    app.add_template_global(due_outcome_questions)
    app.add_template_global(referrals.outcome_label, "outcome_label_of")


def open_access_reports(facility_id: int) -> list:
    """Return a facility's open access reports (the clinic portal's re-verify banner)."""
    return reports.open_reports(db.session(), [facility_id]).get(facility_id, [])
