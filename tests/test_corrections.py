"""Clinics correct their facility details; the office approves or rejects; a later master
import does not silently overwrite an approved correction."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from sqlmodel import select

from surveys.models import AuditEvent, Facility, FacilityCorrection
from tests.conftest import csrf_token

TEMPLATE_HEADER = (
    (Path(__file__).parents[1] / "surveys/data/facility_template.csv")
    .read_text(encoding="utf-8-sig")
    .splitlines()[0]
)


@pytest.fixture
def clinic(app, make_facility, make_user, login):
    """A clinic account for one facility, signed in on its own client."""
    facility = make_facility(
        name="亀戸こころのクリニック", source_id="T-0001", phone="03-0000-0000"
    )
    web = app.test_client()
    login(make_user("clinic", facilities=[facility]), using=web)
    return web, facility


def _propose(web, facility_id: int, **values):
    """Send the details form with these values (others as shown)."""
    url = f"/clinic/facilities/{facility_id}/details"
    page = web.get(url).get_data(as_text=True)
    shown = dict(re.findall(r'name="(phone|website|station|email)"[^>]*value="([^"]*)"', page))
    return web.post(url, data={**shown, **values, "csrf_token": csrf_token(web, url)})


def _decide(client, correction_id: int, decision: str, reason: str = ""):
    """Press approve or reject on the office's queue."""
    token = csrf_token(client, "/admin/corrections")
    data = {"decision": decision, "reason": reason, "csrf_token": token}
    return client.post(f"/admin/corrections/{correction_id}", data=data)


def test_malformed_phone_and_url_get_messages_and_nothing_is_stored(db, clinic):
    web, facility = clinic
    response = _propose(web, facility.id, phone="03-12", website="ftp:/example")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "0で始まる数字とハイフン" in text and "https:// で始まるアドレス" in text
    assert db.exec(select(FacilityCorrection)).all() == []


def test_approved_correction_changes_the_facility_and_the_clinic_sees_it(client, db, admin, clinic):
    web, facility = clinic
    sent = _propose(web, facility.id, phone="０３（５６７８）１２３４", hours="月〜金 9:00〜18:00")
    assert sent.status_code == 302
    pending = db.exec(select(FacilityCorrection).order_by(FacilityCorrection.field)).all()
    assert [(c.field, c.new_value) for c in pending] == [
        ("hours", "月〜金 9:00〜18:00"),
        ("phone", "03-5678-1234"),
    ]
    db.refresh(facility)
    assert facility.phone == "03-0000-0000"  # nothing changes before the office decides

    queue = html.unescape(client.get("/admin/corrections").get_data(as_text=True))
    assert "亀戸こころのクリニック: 電話番号" in queue and "03-5678-1234" in queue
    phone = next(c for c in pending if c.field == "phone")
    hours = next(c for c in pending if c.field == "hours")
    assert _decide(client, phone.id, "approve").status_code == 302
    refused = _decide(client, hours.id, "reject")
    assert "却下する理由を入力してください" in client.get(refused.location).get_data(as_text=True)
    _decide(client, hours.id, "reject", "診療時間は院内掲示と異なります。ご確認ください。")

    db.expire_all()
    assert db.get(Facility, facility.id).phone == "03-5678-1234"
    assert db.get(Facility, facility.id).hours == ""
    page = web.get(f"/clinic/facilities/{facility.id}/details").get_data(as_text=True)
    assert "反映済み" in page and "見送り" in page and "院内掲示と異なります" in page
    actions = [e.action for e in db.exec(select(AuditEvent))]
    assert {"correction.propose", "correction.approve", "correction.reject"} <= set(actions)
    assert _decide(client, phone.id, "approve").status_code == 302  # twice: a message, no 500


def _import(client, phone: str, overwrite: bool = False) -> str:
    """Preview and apply a template CSV that gives T-0001 this phone number."""
    columns = TEMPLATE_HEADER.split(",")
    values = {0: "T-0001", 1: "亀戸こころのクリニック", 3: "診療所", 4: "精神科",
              6: "東京都江東区亀戸八丁目5-1", 7: "13108", 10: phone}  # fmt: skip
    row = ",".join(values.get(i, "") for i in range(len(columns)))
    data = f"{TEMPLATE_HEADER}\r\n{row}\r\n".encode()
    token = csrf_token(client, "/admin/import")
    preview = client.post(
        "/admin/import",
        data={"main": (io.BytesIO(data), "施設.csv"), "csrf_token": token},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    reference = re.search(r'name="upload"[^>]*value="([^"]+)"', preview).group(1)
    form = {"upload": reference, "csrf_token": csrf_token(client, "/admin/import")}
    if overwrite:
        form["overwrite_corrections"] = "y"
    client.post("/admin/import/apply", data=form)
    return html.unescape(preview)


def test_import_lists_a_conflict_with_an_approved_correction_and_keeps_it(
    client, db, admin, clinic
):
    web, facility = clinic
    _propose(web, facility.id, phone="03-5678-1234")
    correction = db.exec(select(FacilityCorrection)).one()
    _decide(client, correction.id, "approve")

    preview = _import(client, "03-9999-0000")
    assert "医療機関からの修正と異なる項目" in preview
    assert "修正 03-5678-1234 / 取込データ 03-9999-0000" in preview
    db.expire_all()
    assert db.get(Facility, facility.id).phone == "03-5678-1234"  # kept by default

    _import(client, "03-9999-0000", overwrite=True)
    db.expire_all()
    assert db.get(Facility, facility.id).phone == "03-9999-0000"  # the admin chose the file
