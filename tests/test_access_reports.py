"""'Could not get an appointment' reports: staff post, admin follows up, clinic re-verifies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from surveys import audit, reports
from surveys.models import REPORT_REASONS, AccessReport, AuditEvent, utcnow
from tests.conftest import csrf_token


def _report(client, facility_id: int, reason: str = "no_capacity", comment: str = ""):
    url = f"/facilities/{facility_id}"
    data = {"reason": reason, "comment": comment, "csrf_token": csrf_token(client, url)}
    return client.post(f"{url}/report", data=data)


def _reports(db) -> list[AccessReport]:
    db.expire_all()
    return list(db.exec(select(AccessReport).order_by(AccessReport.id)))


def _actions(db) -> list[str]:
    db.expire_all()
    return [e.action for e in db.exec(select(AuditEvent).order_by(AuditEvent.id))]


def _sign_out(client) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_report_reasons_all_have_labels():
    assert set(reports.REASON_LABELS) == set(REPORT_REASONS)


def test_report_staff_posts_and_it_is_stored(client, db, login, make_user, town):
    staff = make_user("staff")
    login(staff)
    response = _report(client, town["near"].id, "no_capacity", " 3か月先まで予約がいっぱい ")
    assert response.status_code == 302
    assert "ご報告ありがとうございます" in client.get(response.location).get_data(as_text=True)
    [stored] = _reports(db)
    assert (stored.facility_id, stored.reason, stored.comment) == (
        town["near"].id,
        "no_capacity",
        "3か月先まで予約がいっぱい",
    )
    assert stored.reporter_user_id == staff.id and stored.resolved_at is None
    assert "access_report.create" in _actions(db)


def test_report_page_says_no_patient_data(client, login, make_user, town):
    login(make_user("staff"))
    html = client.get(f"/facilities/{town['near'].id}").get_data(as_text=True)
    assert "個人が分かる情報は書かないでください" in html
    assert 'aria-describedby="comment-help"' in html


def test_report_second_one_same_day_is_declined_politely(client, db, login, make_user, town):
    login(make_user("staff"))
    _report(client, town["near"].id)
    again = _report(client, town["near"].id, "no_answer")
    assert again.status_code == 302
    assert "本日すでにご報告いただいています" in client.get(again.location).get_data(as_text=True)
    assert len(_reports(db)) == 1
    _report(client, town["kameido"].id)  # another facility is fine
    assert len(_reports(db)) == 2


def test_report_needs_a_known_reason_and_short_comment(client, db, login, make_user, town):
    login(make_user("staff"))
    missing = _report(client, town["near"].id, reason="")
    assert missing.status_code == 422
    assert "理由を選んでください" in missing.get_data(as_text=True)
    assert _report(client, town["near"].id, reason="bogus").status_code == 422
    long = _report(client, town["near"].id, comment="長" * 201)
    assert long.status_code == 422
    assert "200文字以内で入力してください" in long.get_data(as_text=True)
    assert _reports(db) == []


def test_report_refused_for_non_staff(client, db, login, make_user, town):
    url = f"/facilities/{town['near'].id}/report"
    token = csrf_token(client, "/login")
    public = client.post(url, data={"reason": "no_answer", "csrf_token": token})
    assert public.status_code == 302 and "/login" in public.location
    login(make_user("clinic", facilities=[town["near"]]))
    token = csrf_token(client, "/clinic/")
    clinic = client.post(url, data={"reason": "no_answer", "csrf_token": token})
    assert clinic.status_code == 403
    assert _reports(db) == []


def test_report_needs_csrf(client, db, login, make_user, town):
    login(make_user("staff"))
    response = client.post(f"/facilities/{town['near'].id}/report", data={"reason": "other"})
    assert response.status_code == 400
    assert _reports(db) == []


def test_admin_sees_reports_open_first_and_resolves(client, db, login, make_user, town):
    login(make_user("staff", email="hokenshi@example.jp"))
    _report(client, town["near"].id, "refused_pregnant", "妊娠中は不可とのこと")
    _report(client, town["kameido"].id, "no_answer")
    _sign_out(client)
    login(make_user("admin"))
    page = client.get("/admin/reports")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "未対応の報告: 2件" in html
    assert "妊娠中・産後であることを理由に断られた" in html and "妊娠中は不可とのこと" in html
    assert "hokenshi@example.jp" in html and "錦糸町こころのクリニック" in html
    first = _reports(db)[0]
    token = csrf_token(client, "/admin/reports")
    done = client.post(f"/admin/reports/{first.id}/resolve", data={"csrf_token": token})
    assert done.status_code == 302
    assert _reports(db)[0].resolved_at is not None
    assert _actions(db).count("access_report.resolve") == 1
    html = client.get("/admin/reports").get_data(as_text=True)
    assert "未対応の報告: 1件" in html
    assert html.index("亀戸メンタルクリニック") < html.index("錦糸町こころのクリニック")


def test_admin_resolve_needs_csrf_and_known_report(client, db, login, make_user, town):
    admin = make_user("admin")
    reports.create_report(db, town["near"], "other", "", audit.Actor("user:x", admin.id))
    db.commit()
    login(admin)
    report_id = _reports(db)[0].id
    assert client.post(f"/admin/reports/{report_id}/resolve").status_code == 400
    token = csrf_token(client, "/admin/reports")
    assert (
        client.post("/admin/reports/999999/resolve", data={"csrf_token": token}).status_code == 404
    )
    assert _reports(db)[0].resolved_at is None


def test_admin_reports_refused_for_others(client, login, make_user):
    assert client.get("/admin/reports").status_code == 302
    login(make_user("staff"))
    assert client.get("/admin/reports").status_code == 403
    _sign_out(client)
    login(make_user("clinic"))
    assert client.get("/admin/reports").status_code == 403


def test_clinic_banner_until_clinic_confirms(client, db, login, make_user, town):
    facility = town["near"]
    login(make_user("staff"))
    _report(client, facility.id, "no_capacity")
    _sign_out(client)
    login(make_user("clinic", facilities=[facility]))
    html = client.get("/clinic/").get_data(as_text=True)
    assert "予約が取れなかった」との報告がありました（1件）" in html
    assert "受け入れ枠がない" in html

    token = csrf_token(client, "/clinic/")
    confirm = client.post(
        f"/clinic/facilities/{facility.id}/confirm", data={"csrf_token": token, "base_version": 1}
    )
    assert confirm.status_code == 302
    assert "との報告がありました" not in client.get("/clinic/").get_data(as_text=True)
    assert reports.open_reports(db, [facility.id]) == {}
    db.expire_all()
    stored = db.exec(select(AccessReport)).one()
    assert stored.resolved_at is not None  # resolved, and audited, when the clinic confirmed
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "access_report.resolve")).one()
    _sign_out(client)
    login(make_user("admin"))
    html = client.get("/admin/reports").get_data(as_text=True)
    assert "未対応の報告: 0件" in html and "医療機関が再確認済み" in html


def test_report_after_the_latest_verification_stays_open(db, make_user, town, answer):
    facility = town["near"]
    staff = audit.Actor("user:staff", make_user("staff").id)
    reports.create_report(db, facility, "no_answer", "", staff, now=utcnow() - timedelta(days=2))
    answer(facility, base=1, wait_days=60)  # the clinic saved its answers: addressed
    later = reports.create_report(db, facility, "no_capacity", "", staff)
    db.commit()
    assert [r.id for r in reports.open_reports(db, [facility.id])[facility.id]] == [later.id]


def test_resolve_after_verification_stamps_and_audits(db, make_user, town):
    facility = town["near"]
    staff = audit.Actor("user:staff", make_user("staff").id)
    report = reports.create_report(db, facility, "no_answer", "", staff)
    db.commit()
    clinic = audit.Actor("invitation:1", None, None)
    resolved = reports.resolve_after_verification(db, facility.id, clinic)
    db.commit()
    assert [r.id for r in resolved] == [report.id]
    assert _reports(db)[0].resolved_at is not None
    assert _reports(db)[0].resolved_by_label == "invitation:1"
    assert _actions(db)[-1] == "access_report.resolve"


def test_report_limit_is_one_per_day_not_one_ever(db, make_user, town):
    staff = audit.Actor("user:staff", make_user("staff").id)
    yesterday = utcnow() - timedelta(days=1)
    reports.create_report(db, town["near"], "no_answer", "", staff, now=yesterday)
    reports.create_report(db, town["near"], "no_answer", "", staff)
    db.commit()
    with pytest.raises(reports.DuplicateReport):
        reports.create_report(db, town["near"], "other", "", staff)
    db.rollback()
    assert len(_reports(db)) == 2


def test_report_operation_refuses_bad_input(db, make_user, town):
    staff = audit.Actor("user:staff", make_user("staff").id)
    for reason, comment, actor in [
        ("bogus", "", staff),
        ("other", "x" * 201, staff),
        ("other", "a\x00b", staff),
        ("other", "", audit.CLI_ACTOR),  # reports come from signed-in users only
    ]:
        with pytest.raises(reports.ReportError):
            reports.create_report(db, town["near"], reason, comment, actor)
    assert _reports(db) == []
