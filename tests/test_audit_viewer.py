"""The admin audit log: filters, Japan time, readable actions, CSV export."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from surveys import audit
from surveys.models import AuditEvent
from surveys.operations import confirm_still_accurate, submit_answers
from surveys.questionnaire import load_version
from tests.conftest import CSRF_RE, csrf_token

ROW_RE = re.compile(r'<tr class="audit-row">')


def _event(db, action: str, actor: str = "cli", at: datetime | None = None, **detail):
    """Store one audit event (optionally at a given moment)."""
    event = audit.record(db, audit.Actor(actor), action, None, **detail)
    if at is not None:
        event.at = at
    db.commit()
    return event


def _rows(response) -> int:
    """Count the event rows on an audit page."""
    return len(ROW_RE.findall(response.get_data(as_text=True)))


def test_audit_filters_narrow_the_rows(client, db, admin):
    _event(db, "auth.login_failed", actor="unknown:intruder@example.jp")
    _event(db, "auth.login_failed", actor="unknown:other@example.jp")
    _event(db, "facility.import", actor="user:office@example.jp", new=3, changed=1)
    everything = client.get("/admin/audit")
    assert everything.status_code == 200
    text = everything.get_data(as_text=True)
    assert "ログイン失敗" in text and "医療機関データ取り込み" in text
    assert "new: 3" in text

    failed = client.get("/admin/audit?action=auth.login_failed")
    assert _rows(failed) == 2
    one = client.get("/admin/audit?action=auth.login_failed&actor=intruder")
    assert _rows(one) == 1 and "intruder@example.jp" in one.get_data(as_text=True)
    nothing = client.get("/admin/audit?actor=nobody-like-this")
    assert _rows(nothing) == 0 and "該当する記録はありません" in nothing.get_data(as_text=True)


def test_audit_dates_are_japan_dates_and_times_show_the_zone(client, db, admin):
    # 00:30 on 1 April in Japan is still 31 March in UTC.
    _event(db, "campaign.create", at=datetime(2026, 3, 31, 15, 30, tzinfo=UTC))
    _event(db, "campaign.create", at=datetime(2026, 3, 31, 14, 30, tzinfo=UTC))
    april = client.get("/admin/audit?action=campaign.create&date_from=2026-04-01")
    assert _rows(april) == 1
    assert "2026-04-01 00:30:00 JST" in april.get_data(as_text=True)
    march = client.get(
        "/admin/audit?action=campaign.create&date_from=2026/03/31&date_to=2026-03-31"
    )
    assert _rows(march) == 1 and "2026-03-31 23:30:00 JST" in march.get_data(as_text=True)


@pytest.mark.parametrize("query", ["date_from=2026-13-45", "date_to=yesterday", "page=x"])
def test_audit_bad_filter_shows_a_message_not_an_error(client, admin, query):
    page = client.get(f"/admin/audit?{query}")
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "flash-error" in text
    assert "システムで問題が発生しました" not in text


def test_audit_end_before_start_is_explained(client, admin):
    page = client.get("/admin/audit?date_from=2026-04-02&date_to=2026-04-01")
    assert page.status_code == 400
    assert "終了日は開始日以降" in page.get_data(as_text=True)


def test_audit_pages_hold_fifty_newest_first(client, db, admin):
    for n in range(60):
        _event(db, "demo.seed", n=n)
    first = client.get("/admin/audit?action=demo.seed")
    assert _rows(first) == 50
    text = first.get_data(as_text=True)
    assert text.index("n: 59") < text.index("n: 58")
    second = client.get("/admin/audit?action=demo.seed&page=2")
    assert _rows(second) == 10 and "n: 0" in second.get_data(as_text=True)


def test_audit_survey_confirm_shows_verified_before_and_after(
    client, db, admin, make_facility, answer
):
    facility = make_facility()
    answer(facility, wait_days=5)
    later = datetime.now(UTC) + timedelta(days=40)
    confirm_still_accurate(db, facility, audit.CLI_ACTOR, 1, now=later)
    db.commit()
    text = client.get("/admin/audit?action=survey.confirm").get_data(as_text=True)
    assert "内容に変更なしの確認" in text
    assert re.search(r"verified_on: \d{4}-\d\d-\d\d → \d{4}-\d\d-\d\d", text)
    answered = client.get("/admin/audit?action=survey.answer").get_data(as_text=True)
    assert "wait_days: — → 5" in answered


def test_audit_hearing_changes_read_with_the_hearings_labels(client, db, admin, make_facility):
    unit = make_facility(name="亀戸レディースクリニック", category="obstetric")
    hearing = load_version("obstetric-2026.1")
    first = {"epds_use": "some", "refer_to": ["municipality"], "answered_by": "助産師 佐藤"}
    submit_answers(db, unit, hearing, first, audit.CLI_ACTOR, 0)
    submit_answers(db, unit, hearing, {**first, "epds_use": "all"}, audit.CLI_ACTOR, 1)
    db.commit()
    text = client.get("/admin/audit?action=survey.answer").get_data(as_text=True)
    lines = " ".join(re.findall(r'<ul class="audit-changes">(.*?)</ul>', text, re.S))
    assert "エジンバラ産後うつ病質問票（EPDS）を使用していますか" in lines
    assert "こころの不調がある妊産婦の主な紹介先" in lines
    assert "epds_use" not in lines and "refer_to" not in lines


def _export(client, query: str = ""):
    """Press the page's CSV button: a POST with the page's CSRF token to the form's action."""
    page = client.get(f"/admin/audit{query}").get_data(as_text=True)
    action = re.search(r'<form method="post" action="(/admin/audit.csv[^"]*)"', page).group(1)
    return client.post(html.unescape(action), data={"csrf_token": CSRF_RE.search(page).group(1)})


def test_audit_csv_is_not_kept_by_caches(client, db, admin):
    _event(db, "auth.login_failed", actor="user:office@example.jp")
    response = _export(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_audit_csv_has_the_filtered_rows_as_text(client, db, admin):
    _event(db, "auth.login_failed", actor="=cmd()")
    _event(db, "facility.import", actor="user:office@example.jp", source="=HYPERLINK()")
    response = _export(client, "?action=auth.login_failed")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, data = rows[0], rows[1:]
    assert header[0] == "日時（日本時間）"
    assert len(data) == 1
    assert data[0][1] == "'=cmd()"
    assert data[0][2] == "auth.login_failed" and data[0][3] == "ログイン失敗"
    exports = db.exec(select(AuditEvent).where(AuditEvent.action == "audit.export")).all()
    assert len(exports) == 1
    assert exports[0].detail == {"filters": {"action": "auth.login_failed"}, "rows": 1}
    log = client.get("/admin/audit?action=audit.export").get_data(as_text=True)
    assert "操作ログ出力" in log and "rows: 1" in log


def test_audit_csv_filters_by_actor_text_and_target(client, db, admin, make_user):
    target = make_user("staff")
    audit.record(db, audit.Actor("+SUM(A1)"), "user.disable", target)
    db.commit()
    _event(db, "user.disable", actor="someone-else")
    query = f"?actor=SUM&target_type=user&target_id={target.id}"
    rows = list(csv.reader(io.StringIO(_export(client, query).get_data().decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[1][1] == "'+SUM(A1)" and rows[1][5] == str(target.id)


def test_audit_log_is_for_admins_only(client, make_user, login):
    staff = make_user("staff")
    login(staff)
    assert client.get("/admin/audit").status_code == 403
    token = csrf_token(client, "/")  # the sign-out form's
    assert client.post("/admin/audit.csv", data={"csrf_token": token}).status_code == 403


def test_audit_export_is_a_post_with_csrf_and_a_get_changes_nothing(client, db, admin):
    _event(db, "auth.login_failed", actor="user:office@example.jp")
    before = db.exec(select(AuditEvent)).all()
    assert client.get("/admin/audit.csv").status_code == 405
    refused = client.post("/admin/audit.csv?action=auth.login_failed")  # no CSRF token
    assert refused.status_code == 400
    assert len(db.exec(select(AuditEvent)).all()) == len(before)
    assert _export(client, "?action=auth.login_failed").status_code == 200
    assert len(db.exec(select(AuditEvent)).all()) == len(before) + 1
