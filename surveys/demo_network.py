"""Demo network: obstetric units, one contact point per demo municipality, hearing answers.

Drawn from its own random stream (the psychiatric demo data stay those of the seed). The
answers go through `submit_answers` like a real save; in one municipality two staff answer
on the same base version, so the second save meets the conflict and saves again on top of
the first (both versions kept, as the survey does).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from sqlmodel import Session, select

from surveys import audit
from surveys.demo import STEMS, _answer
from surveys.errors import VersionConflict
from surveys.models import Facility
from surveys.operations import submit_answers
from surveys.places import TownPoint
from surveys.questionnaire import Questionnaire

OBSTETRIC_NAMES = [
    ("レディースクリニック", "レディースクリニック", "clinic", "産婦人科"),
    ("産婦人科医院", "サンフジンカイイン", "clinic", "産婦人科"),
    ("マタニティクリニック", "マタニティクリニック", "clinic", "産科、婦人科"),
    ("ウィメンズクリニック", "ウィメンズクリニック", "clinic", "産婦人科、小児科"),
    ("総合病院", "ソウゴウビョウイン", "hospital", "内科、外科、産婦人科、小児科"),
    ("母子医療センター", "ボシイリョウセンター", "hospital", "産科、婦人科、小児科、新生児内科"),
]
HEARING_RATE = 0.8
TEXTS = {
    "barriers_note": [
        "妊娠中の方を受け入れる精神科の初診が1か月以上先になることが多い。",
        "紹介先の受け入れ条件が分からず、電話で何件も問い合わせている。",
        "",
    ],
    "needs_note": [
        "受け入れ可能な精神科の一覧を定期的に更新してほしい。",
        "事例検討会に参加したい。",
        "",
    ],
}


def seed_network(
    session: Session,
    hearings: dict[str, Questionnaire],
    seed: int,
    towns: Sequence[TownPoint],
) -> dict:
    """Add obstetric units and contact points in the demo municipalities and their hearing
    answers; `hearings` maps "obstetric" and "municipal" to their editions. Caller commits."""
    rng = random.Random(f"network-{seed}")
    codes = sorted(set(session.exec(select(Facility.municipality_code).where(_psychiatric()))))
    located = [t for t in towns if t.lat is not None and not t.koaza and t.municipality_code]
    by_code: dict[str, list[TownPoint]] = {}
    for town in located:
        if town.municipality_code in codes:
            by_code.setdefault(town.municipality_code, []).append(town)
    codes = [c for c in codes if c in by_code]
    count = max(6, min(48, len(codes)))
    units = [_obstetric(rng, n, rng.choice(by_code[codes[n % len(codes)]])) for n in range(count)]
    contacts = [_contact_point(rng, by_code[code][0]) for code in codes]
    session.add_all(units + contacts)
    session.flush()
    answered = _answer_hearings(session, rng, units, hearings["obstetric"])
    answered += _answer_hearings(session, rng, contacts[1:], hearings["municipal"])
    conflict = _answer_twice(session, rng, contacts[0], hearings["municipal"]) if contacts else None
    audit.record(session, audit.CLI_ACTOR, "demo.network", None, seed=seed)
    return {
        "obstetric": len(units),
        "contact_points": len(contacts),
        "hearing_answers": answered + (1 if conflict else 0),
        "conflict_facility": conflict,
    }


def _psychiatric():
    """The condition of a psychiatric facility."""
    return Facility.category == "psychiatric"


def _obstetric(rng: random.Random, n: int, town: TownPoint) -> Facility:
    """Make one obstetric unit in a real town."""
    stem, stem_kana = rng.choice(STEMS)
    suffix, suffix_kana, kind, departments = rng.choice(OBSTETRIC_NAMES)
    area = "03" if town.municipality_code < "13200" else "042"
    return Facility(
        source_id=f"DEMO-OB{n + 1:04d}",
        category="obstetric",
        name=f"{stem}{suffix}",
        kana=f"{stem_kana}{suffix_kana}",
        kind=kind,
        departments=departments,
        prefecture_code="13",
        municipality_code=town.municipality_code,
        address=f"東京都{town.city}{town.town}{rng.randint(1, 30)}-{rng.randint(1, 20)}",
        lat=round(town.lat + rng.uniform(-0.003, 0.003), 6),
        lng=round(town.lng + rng.uniform(-0.003, 0.003), 6),
        phone=f"{area}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
        hours="月〜土 9:00〜12:00、14:00〜17:00",
        email=f"obstetric{n + 1:04d}@example.jp",
    )


def _contact_point(rng: random.Random, town: TownPoint) -> Facility:
    """Make the municipality's contact point (こども家庭センター or 保健センター)."""
    family = rng.random() < 0.6
    kind, name = (
        ("family_center", "こども家庭センター") if family else ("health_center", "保健センター")
    )
    code = town.municipality_code
    area = "03" if code < "13200" else "042"
    return Facility(
        source_id=f"DEMO-MC{code}",
        category="municipal",
        name=f"{town.city}{name}",
        kind=kind,
        prefecture_code="13",
        municipality_code=code,
        address=f"東京都{town.city}{town.town}{rng.randint(1, 10)}-{rng.randint(1, 20)}",
        lat=town.lat,
        lng=town.lng,
        phone=f"{area}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
        hours="月〜金 8:30〜17:15（祝日・年末年始を除く）",
        email=f"kodomo{code}@example.jp",
    )


def _answer_hearings(
    session: Session, rng: random.Random, facilities: list[Facility], q: Questionnaire
) -> int:
    """Answer the hearing for most of these facilities; return how many answered."""
    answered = 0
    for facility in facilities:
        if rng.random() < HEARING_RATE:
            actor = audit.Actor(label=f"demo: {facility.name}")
            answers = _answers(rng, q, "担当者", facility)
            submit_answers(session, facility, q, answers, actor, 0)
            answered += 1
    return answered


def _answer_twice(
    session: Session, rng: random.Random, facility: Facility, q: Questionnaire
) -> int:
    """Two staff answer on the same base version: the second save conflicts, then saves on
    top of the first; return the facility's id."""
    first = audit.Actor(label=f"demo: {facility.name} 保健師A")
    second = audit.Actor(label=f"demo: {facility.name} 保健師B")
    submit_answers(session, facility, q, _answers(rng, q, "保健師A", facility), first, 0)
    mine = _answers(rng, q, "保健師B", facility)
    try:
        submit_answers(session, facility, q, mine, second, 0)
    except VersionConflict:  # what the second one sees: the conflict page, then saves again
        submit_answers(session, facility, q, mine, second, 1)
    return facility.id


def _answers(rng: random.Random, q: Questionnaire, who: str, facility: Facility) -> dict:
    """Draw plausible hearing answers (a municipality names its own contact point)."""
    answers: dict = {}
    for item in q.items:
        answers[item.key] = _answer(rng, item, q, answers)
        if item.key in TEXTS:
            answers[item.key] = rng.choice(TEXTS[item.key])
    answers["answered_by"] = who
    if "contact_unit" in answers:
        answers["contact_unit"] = facility.kind
    return answers
