"""A nurse on a phone marks a referral, comes back two weeks later, answers in one tap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from index.sync import rebuild
from surveys.models import Referral
from surveys.referrals import FOLLOW_UP_DAYS

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips these tests (or fails them in CI)
    expect = None

pytestmark = pytest.mark.browser


@pytest.fixture
def app(make_app):
    """No map tiles: nothing may leave the machine."""
    return make_app(MAP_TILE_URL="")


def _sign_in(page, user) -> None:
    """Sign in through the login form."""
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(user.email)
    page.get_by_label("パスワード").fill("correct horse")
    page.get_by_role("button", name="ログイン").click()


def _two_weeks_pass(db) -> None:
    """Move the stored referral dates two weeks back (the server runs in its own process)."""
    for referral in db.exec(select(Referral)).all():
        referral.referred_on -= timedelta(days=FOLLOW_UP_DAYS)
        db.add(referral)
    db.commit()


def test_nurse_refers_and_answers_the_outcome_in_one_tap_on_a_phone(
    app, db, phone_page, axe, town, make_user
):
    rebuild(db, app.extensions["pmh_index"])
    nurse = make_user("staff")
    nurse.organisation = "江東区 子ども家庭センター"
    db.add(nurse)
    db.commit()
    page = phone_page
    _sign_in(page, nurse)
    page.goto(f"/facilities/{town['near'].id}")
    page.get_by_role("button", name="本日紹介した").click()
    expect(page.locator("main")).to_contain_text("本日の紹介を記録しました")
    page.goto("/")
    expect(page.get_by_text("受診につながりましたか")).to_have_count(0)

    _two_weeks_pass(db)
    page.goto("/")
    question = page.locator(".outcome-questions")
    expect(question).to_contain_text("錦糸町こころのクリニック")
    expect(question).to_contain_text("受診につながりましたか")
    assert axe(page) == []
    question.get_by_role("button", name="予約が取れなかった").tap()
    expect(page.locator("main")).to_contain_text("ご回答ありがとうございました")
    expect(page.locator(".outcome-questions")).to_have_count(0)
    db.expire_all()
    (referral,) = db.exec(select(Referral)).all()
    assert (referral.outcome, referral.answered_by_user_id) == ("no_appointment", nurse.id)
