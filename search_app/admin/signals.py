"""Admin: capacity pulse response rates per month, referral outcome counts (never public)."""

from __future__ import annotations

from flask import current_app, render_template
from sqlmodel import col, select

from index.geo.gazetteer import municipalities
from search_app import db
from search_app.admin.views import bp
from surveys import pulse, referrals
from surveys.models import Facility


@bp.route("/pulse")
def pulse_rates():
    """Each month's pulse: facilities mailed, answers, response rate and what they said."""
    return render_template("admin/pulse.html", months=pulse.monthly_rates(db.session()))


@bp.route("/referrals")
def referral_counts():
    """Referral outcomes per municipality of the facility and per facility."""
    session = db.session()
    per_facility = referrals.outcome_counts(session)
    names = dict(
        session.exec(
            select(Facility.id, Facility.name).where(col(Facility.id).in_(list(per_facility)))
        ).all()
    )
    places = {m.code: m.name for m in municipalities(current_app.config["PREFECTURE_CODE"])}
    return render_template(
        "admin/referrals.html",
        by_municipality=referrals.counts_by_municipality(session),
        by_facility=sorted(per_facility.items(), key=lambda item: names.get(item[0], "")),
        names=names,
        places=places,
        follow_up_days=referrals.FOLLOW_UP_DAYS,
    )
