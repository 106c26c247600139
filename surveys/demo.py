"""Synthetic demo data: realistic facilities on real Tokyo towns, deterministic per seed."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from surveys import audit
from surveys.accounts import hash_password
from surveys.campaigns import create_campaign
from surveys.models import (
    Campaign,
    Facility,
    IndexOutbox,
    PulseAnswer,
    SurveyResponse,
    User,
    UserFacility,
    utcnow,
)
from surveys.operations import ensure_questionnaire, today_in_japan
from surveys.places import TownPoint
from surveys.questionnaire import Item, Questionnaire

# (written form, katakana reading)
STEMS = [
    ("さくら", "サクラ"),
    ("こころ", "ココロ"),
    ("ひだまり", "ヒダマリ"),
    ("青葉", "アオバ"),
    ("若葉", "ワカバ"),
    ("すみれ", "スミレ"),
    ("ひかり", "ヒカリ"),
    ("あおぞら", "アオゾラ"),
    ("はなみずき", "ハナミズキ"),
    ("森の", "モリノ"),
    ("みなと", "ミナト"),
    ("かえで", "カエデ"),
    ("山田", "ヤマダ"),
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("清水", "シミズ"),
    ("石川", "イシカワ"),
    ("本多", "ホンダ"),
]
CLINIC_SUFFIXES = [
    ("メンタルクリニック", "メンタルクリニック"),
    ("こころのクリニック", "ココロノクリニック"),
    ("心療内科クリニック", "シンリョウナイカクリニック"),
    ("メンタルヘルスクリニック", "メンタルヘルスクリニック"),
    ("神経科クリニック", "シンケイカクリニック"),
    ("心療内科・精神科", "シンリョウナイカ・セイシンカ"),
    ("クリニック", "クリニック"),
]
HOSPITAL_SUFFIXES = [
    ("病院", "ビョウイン"),
    ("記念病院", "キネンビョウイン"),
    ("総合病院", "ソウゴウビョウイン"),
    ("こころの医療センター", "ココロノイリョウセンター"),
]
BUILDINGS = ["", "", "", "駅前ビル2階", "メディカルモール3F", "第一ビル4階", "ハイツ101"]
ANSWER_RATE = 0.8
# Every so many facilities has no e-mail address, as in the real master (they get phoned).
NO_EMAIL_EVERY = 12


@dataclass(frozen=True)
class DemoUser:
    """A demo account and its password (printed once for the person running the demo)."""

    email: str
    role: str
    password: str
    name: str


def demo_users(seed: int) -> list[DemoUser]:
    """Return the demo accounts; passwords derive from the seed so they can be reprinted."""
    rng = random.Random(f"users-{seed}")
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"

    def pw() -> str:
        return "-".join("".join(rng.choice(alphabet) for _ in range(4)) for _ in range(4))

    return [
        DemoUser("admin@example.jp", "admin", pw(), "事務局 管理者"),
        DemoUser("nurse@example.jp", "staff", pw(), "江東区 保健師"),
        DemoUser("clinic@example.jp", "clinic", pw(), "デモ クリニック 事務"),
    ]


def seed_demo(
    session: Session,
    questionnaire: Questionnaire,
    clinics: int,
    seed: int,
    towns: Sequence[TownPoint],
) -> dict:
    """Create `clinics` facilities in Tokyo's `towns`, their answers and the demo users; the
    caller commits."""
    rng = random.Random(seed)
    located = [t for t in towns if t.lat is not None and not t.koaza]
    version = ensure_questionnaire(session, questionnaire)
    facilities = [_facility(rng, n, rng.choice(located)) for n in range(1, clinics + 1)]
    session.add_all(facilities)
    session.flush()
    responses = []
    for facility in facilities:
        session.add(IndexOutbox(facility_id=facility.id))
        if rng.random() < ANSWER_RATE:
            responses.append(_response(rng, facility, version.id, questionnaire))
    session.add_all(responses)
    session.add_all(_pulse_answers(seed, responses))
    answered = len(responses)
    users = _add_users(session, seed, facilities)
    audit.record(session, audit.CLI_ACTOR, "demo.seed", None, clinics=clinics, seed=seed)
    return {"facilities": len(facilities), "answered": answered, "users": users}


def _facility(rng: random.Random, n: int, town: TownPoint) -> Facility:
    """Make one facility in a real town, a few metres off the town's point."""
    hospital = rng.random() < 0.15
    stem, stem_kana = rng.choice(STEMS)
    suffix, suffix_kana = rng.choice(HOSPITAL_SUFFIXES if hospital else CLINIC_SUFFIXES)
    block = f"{rng.randint(1, 30)}-{rng.randint(1, 20)}"
    building = rng.choice(BUILDINGS)
    area = "03" if town.municipality_code < "13200" else "042"
    return Facility(
        source_id=f"DEMO{n:06d}",
        name=f"{stem}{suffix}",
        kana=f"{stem_kana}{suffix_kana}",
        kind="hospital" if hospital else "clinic",
        departments="精神科,心療内科" if rng.random() < 0.6 else rng.choice(["精神科", "心療内科"]),
        prefecture_code="13",
        municipality_code=town.municipality_code,
        address=f"東京都{town.city}{town.town}{block}{' ' + building if building else ''}",
        lat=round(town.lat + rng.uniform(-0.002, 0.002), 6),
        lng=round(town.lng + rng.uniform(-0.002, 0.002), 6),
        phone=f"{area}-{rng.randint(1000, 9999) if area == '03' else rng.randint(100, 999)}-"
        f"{rng.randint(1000, 9999)}",
        hours="月〜金 9:00〜18:00、土 9:00〜13:00" if not hospital else "月〜土 9:00〜17:00",
        email=demo_email(n),
    )


def demo_email(n: int) -> str:
    """Return the example address of demo facility n ('' for some): reserved domains only."""
    if n % NO_EMAIL_EVERY == 0:
        return ""
    domain = "example.jp" if n % 2 else "example.com"
    return f"clinic{n:06d}@{domain}"


# Share of answers per item; most facilities decline pregnant patients, as in real surveys.
WEIGHTS: dict[str, dict[str, float]] = {
    "pregnant": {"yes": 0.08, "conditional": 0.14, "no": 0.66, "unknown": 0.12},
    "postpartum": {"yes": 0.16, "conditional": 0.18, "no": 0.54, "unknown": 0.12},
    "pregnancy_rx": {"yes": 0.1, "consult": 0.3, "no": 0.4, "unknown": 0.2},
    "breastfeeding_rx": {"yes": 0.12, "consult": 0.35, "no": 0.35, "unknown": 0.18},
    "new_patients": {"yes": 0.5, "limited": 0.35, "no": 0.15},
    "visibility": {"public": 0.7, "professionals": 0.3},
    "inpatient": {"yes": 0.15, "no": 0.85},
    "woman_doctor": {"yes": 0.45, "no": 0.55},
    "online": {"yes": 0.3, "no": 0.7},
}


def _response(rng: random.Random, facility: Facility, version_id: int, q: Questionnaire):
    """Make a plausible first answer, verified some time in the last 18 months."""
    answers: dict[str, Any] = {}
    for item in q.items:
        answers[item.key] = _answer(rng, item, q, answers)
    answers["answered_by"] = "事務長"
    answers["inpatient"] = "yes" if facility.kind == "hospital" else answers["inpatient"]
    cleaned, _errors = q.clean(answers)
    submitted = utcnow() - timedelta(days=rng.randint(1, 540))
    return SurveyResponse(
        facility_id=facility.id,
        version_no=1,
        questionnaire_id=version_id,
        kind="answer",
        answers=cleaned,
        verified_on=today_in_japan(submitted),
        submitted_by_label="demo",
        submitted_at=submitted,
    )


def _pulse_answers(seed: int, responses: list[SurveyResponse]) -> list[PulseAnswer]:
    """Capacity pulse answers of the last 60 days for most accepting facilities (own random
    stream, so the facilities and answers stay those of the seed)."""
    rng = random.Random(f"pulse-{seed}")
    made = []
    for response in responses:
        accepting = {response.answers.get("pregnant"), response.answers.get("postpartum")}
        if accepting & {"yes", "conditional"} and rng.random() < 0.7:
            moment = utcnow() - timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 23))
            made.append(
                PulseAnswer(
                    facility_id=response.facility_id, via="portal", answered_at=moment,
                    capacity=rng.choice(["room", "room", "little", "little", "none"]),
                    wait_days=rng.choice([None, 3, 7, 14, 21, 30]),
                    answered_on=today_in_japan(moment),
                )
            )  # fmt: skip
    return made


def _answer(rng: random.Random, item: Item, q: Questionnaire, answers: dict) -> Any:
    """Draw one answer (None when the question would not be asked)."""
    if not q.is_shown(item, answers):
        return None
    if item.key in WEIGHTS:
        values, weights = zip(*WEIGHTS[item.key].items(), strict=True)
        return rng.choices(values, weights)[0]
    if item.type == "choice":
        return rng.choice(item.choices).value
    if item.type == "multi":
        return [c.value for c in item.choices if rng.random() < 0.35]
    if item.type == "integer":
        return rng.choice([0, 3, 7, 14, 14, 21, 30, 30, 45, 60, 90])
    return None


def _add_users(session: Session, seed: int, facilities: list[Facility]) -> list[DemoUser]:
    """Create the demo users; the clinic user answers for the first two facilities."""
    users = demo_users(seed)
    for demo in users:
        user = User(
            email=demo.email,
            role=demo.role,
            display_name=demo.name,
            password_hash=hash_password(demo.password),
        )
        session.add(user)
        session.flush()
        if demo.role == "clinic":
            session.add_all(UserFacility(user_id=user.id, facility_id=f.id) for f in facilities[:2])
    return users


# Share of answered demo facilities that name nearby obstetric units as partners, and how near.
PARTNER_RATE = 0.4
PARTNER_KM = 6.0


def add_partner_links(session: Session, questionnaire: Questionnaire, seed: int) -> int:
    """Let a share of the answered psychiatric facilities name one to three nearby obstetric
    units as partners (run after seed_network made the units; own random stream); return how
    many answers name some."""
    items = [i for i in questionnaire.items if i.type == "facility_links"]
    session.flush()
    units = [
        f
        for f in session.exec(select(Facility).where(Facility.category == "obstetric"))
        if f.lat is not None and f.lng is not None
    ]
    if not items or not units:
        return 0
    rng = random.Random(f"partners-{seed}")
    query = (
        select(SurveyResponse, Facility)
        .join(Facility, Facility.id == SurveyResponse.facility_id)
        .where(Facility.category == "psychiatric")
        .order_by(SurveyResponse.facility_id, SurveyResponse.version_no)
    )
    named = 0
    for response, facility in session.exec(query):
        near = sorted((_km(facility, unit), unit.id, unit) for unit in units)
        near = [unit for km, _id, unit in near if km <= PARTNER_KM][:3]
        if not near or facility.lat is None or rng.random() >= PARTNER_RATE:
            continue
        chosen = near[: rng.randint(1, len(near))]
        links = [{"id": unit.id, "name": unit.name} for unit in chosen]
        response.answers = {**response.answers, items[0].key: links}
        session.add(response)
        named += 1
    return named


def _km(a: Facility, b: Facility) -> float:
    """Return the rough distance between two located facilities (equirectangular, km)."""
    if a.lat is None or a.lng is None or b.lat is None or b.lng is None:
        return float("inf")
    x = (b.lng - a.lng) * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(x, b.lat - a.lat) * 111.2


PAST_CAMPAIGN = "妊産婦受け入れ調査（デモ・締切済み）"


def add_past_campaign(
    session: Session, questionnaire: Questionnaire, opened_days_ago: int = 150, ran_days: int = 45
) -> Campaign:
    """Add a campaign opened and closed in the past, whose study report has the demo's answers."""
    # Opened as any campaign is (a closing date to come), then moved back in time: demo only.
    tomorrow = today_in_japan() + timedelta(days=1)
    campaign = create_campaign(session, questionnaire, PAST_CAMPAIGN, tomorrow, audit.CLI_ACTOR)
    campaign.created_at = utcnow() - timedelta(days=opened_days_ago)
    campaign.closes_at = campaign.created_at + timedelta(days=ran_days)
    campaign.closed, campaign.closed_at = True, campaign.closes_at
    session.add(campaign)
    return campaign


def has_facilities(session: Session) -> bool:
    """Tell whether the database already holds facilities."""
    return session.exec(select(Facility.id).limit(1)).first() is not None
