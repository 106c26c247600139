"""The study group's report (関係機関合同の検討会): a campaign's or a hearing's answers tallied.

Read-only; no request globals, no Flask, no geography: the caller hands in the municipalities.
Works over any questionnaire edition, from its items alone:

- Respondents are the facilities in scope whose current answer counts: for a campaign, those
  that answered (or confirmed) since it was opened, as the campaign page counts them; for a
  hearing (a questionnaire edition without a campaign), those whose current answer is of that
  edition. Every tally is over the respondents' current (latest) answers.
- choice and multi items: count of each value and its share of the respondents who answered
  the item (a multi item's shares may add up to more than 100%); facility_links items (partner
  links) likewise, one count per facility named, labelled with its stored name; integer
  items: n, minimum, quartiles (`statistics.quantiles`, inclusive method), median, maximum
  and bins of a round width; text items: the answers as given.
- Breakdowns by municipality and by kind of institution (category and kind when the scope
  mixes categories): facilities in scope, respondents, and the counts of the breakdown items
  (required choice items asked of everyone; else the first choice item).
- The acceptance map: one point per located facility in scope; its status comes from a map item
  (a required choice item with the values yes, conditional and no): accepting, conditional,
  declining, or none (no answer, or another value such as "unknown"). Without such an item the
  points tell respondents from non-respondents.
- The public version leaves out professional_only items and every facility name; facilities
  listed for professionals only count as respondents, but their answers are left out of every
  tally, breakdown and map (`withheld`). A hearing (an edition whose respondents are not
  psychiatric facilities) has no public version: its answers are never published.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from surveys.bilingual import bilingual
from surveys.campaigns import answered_ids, in_scope
from surveys.errors import SurveyError
from surveys.models import Campaign, Facility, QuestionnaireVersion, utcnow
from surveys.network import stored_links
from surveys.operations import current_responses
from surveys.places import Municipality
from surveys.questionnaire import Item, Questionnaire, parse

BATCH = 500  # facility ids per query, well under every database's bound-parameter limit
MAX_BINS = 8
STATUSES = ("accepting", "conditional", "declining", "none")
ANSWERED_STATUSES = ("answered", "none")  # the map's statuses without a map item
STATUS_OF_VALUE = {"yes": "accepting", "conditional": "conditional", "no": "declining"}
UNKNOWN_MUNICIPALITY = ""
PUBLIC_RESPONDENT = "psychiatric"  # the only respondents whose report has a public version


class HearingNotPublic(SurveyError):
    """The public version of a hearing's report was asked for: hearing answers are not public."""

    message_ja = "ヒアリングの回答は公開しません。ヒアリングの資料は関係機関・事務局用のみです。"
    message_en = "Hearing answers are not public: a hearing's report exists for staff only."


def has_public_version(questionnaire: Questionnaire) -> bool:
    """Tell whether the report of this edition may have a public version (not a hearing)."""
    return questionnaire.respondent == PUBLIC_RESPONDENT


@dataclass(frozen=True)
class Subject:
    """One facility in scope and its current answers (None: not a respondent)."""

    facility: Facility
    answers: dict[str, Any] | None

    @property
    def responded(self) -> bool:
        """Tell whether the facility counts as a respondent."""
        return self.answers is not None

    @property
    def listed_publicly(self) -> bool:
        """Tell whether the answers may be shown to the public one by one (as the listings do:
        a facility that chose professionals-only listing is only counted in public figures)."""
        return self.responded and self.answers.get("visibility", "public") == "public"


@dataclass(frozen=True)
class Count:
    """How many respondents chose one value, and their share of those who answered."""

    value: str
    label_ja: str
    label_en: str
    count: int
    share: float  # 0..1

    def label(self, lang: str) -> str:
        """Return the value's label in a language."""
        return bilingual(lang, self.label_ja, self.label_en)

    @property
    def percent(self) -> str:
        """The share with one decimal (e.g. '33.3')."""
        return f"{self.share * 100:.1f}"


@dataclass(frozen=True)
class Bin:
    """A range of whole numbers (both ends included) and how many answers fell in it."""

    low: int
    high: int
    count: int

    @property
    def label(self) -> str:
        """'3' for a one-number bin, else '0–4'."""
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"


@dataclass(frozen=True)
class IntegerSummary:
    """Five-number summary and bins of an integer item's answers."""

    n: int
    minimum: int
    q1: float
    median: float
    q3: float
    maximum: int
    bins: tuple[Bin, ...]


@dataclass(frozen=True)
class TextAnswer:
    """One free-text answer; the name is empty in the public version."""

    facility_name: str
    municipality: str
    text: str


@dataclass(frozen=True)
class ItemTally:
    """One question's tally over the respondents."""

    item: Item
    answered: int  # respondents who gave an answer to this item
    unanswered: int  # respondents who did not (or were not asked it)
    counts: tuple[Count, ...] = ()
    summary: IntegerSummary | None = None
    texts: tuple[TextAnswer, ...] = ()


@dataclass(frozen=True)
class SectionTally:
    """The tallies of one section of the questionnaire."""

    key: str
    title_ja: str
    title_en: str
    items: tuple[ItemTally, ...]

    def title(self, lang: str) -> str:
        """Return the section's title in a language."""
        return bilingual(lang, self.title_ja, self.title_en)


class _ResponseRate:
    """Respondents among the facilities in scope (`in_scope`, `respondents` from the subclass)."""

    in_scope: int
    respondents: int

    @property
    def non_respondents(self) -> int:
        """Facilities in scope that have not answered."""
        return self.in_scope - self.respondents

    @property
    def rate_percent(self) -> str:
        """The response rate with one decimal."""
        return f"{100 * self.respondents / self.in_scope:.1f}" if self.in_scope else "0.0"


@dataclass(frozen=True)
class GroupRow(_ResponseRate):
    """A municipality or a kind of institution: facilities, respondents, breakdown counts."""

    key: str
    name: str
    in_scope: int
    respondents: int
    # breakdown item key -> one count per choice of the item, in the item's order
    counts: dict[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class MapPoint:
    """A located facility on the acceptance map; the name is empty in the public version."""

    name: str
    lat: float
    lng: float
    status: str


@dataclass(frozen=True)
class AcceptanceMap:
    """Facilities in scope by status of one map item (or answered / not without one)."""

    item: Item | None
    statuses: tuple[str, ...]
    points: tuple[MapPoint, ...]
    counts: dict[str, int]  # status -> facilities in scope (located or not)
    unlocated: int  # facilities in scope without coordinates (not drawn)


@dataclass(frozen=True)
class StudyReport(_ResponseRate):
    """Everything the study group's report shows."""

    title: str  # the campaign's name, or the questionnaire's title for a hearing
    questionnaire: Questionnaire
    staff: bool  # True: the staff version (professional_only items and names included)
    generated_at: datetime
    in_scope: int
    respondents: int
    sections: tuple[SectionTally, ...]
    breakdown_items: tuple[Item, ...]
    by_municipality: tuple[GroupRow, ...]
    by_kind: tuple[GroupRow, ...]
    maps: tuple[AcceptanceMap, ...]
    mixed_categories: bool = False
    # public version: respondents listed for professionals only, counted as respondents but
    # left out of every tally, breakdown and map
    withheld: int = 0

    @property
    def items(self) -> tuple[ItemTally, ...]:
        """Every item's tally, in the questionnaire's order."""
        return tuple(t for s in self.sections for t in s.items)

    def tally(self, key: str) -> ItemTally:
        """Return the tally of one item."""
        return next(t for t in self.items if t.item.key == key)


# --- loading the subjects --------------------------------------------------------------------


def campaign_questionnaire(session: Session, campaign: Campaign) -> Questionnaire:
    """Return the questionnaire edition the campaign asks (as stored when it was opened)."""
    row = session.get(QuestionnaireVersion, campaign.questionnaire_id)
    return parse(row.definition, name=f"questionnaire {row.version}")


def campaign_subjects(session: Session, campaign: Campaign) -> list[Subject]:
    """Return the campaign's facilities; respondents answered since it was opened."""
    facilities = list(session.exec(in_scope(campaign)))
    answered = answered_ids(session, campaign)
    return _subjects(session, facilities, lambda response: response.facility_id in answered)


def hearing_subjects(
    session: Session, version_id: int | None, conditions: Sequence
) -> list[Subject]:
    """Return the facilities meeting `conditions` (the respondent category, the prefecture);
    respondents are those whose current answer is of this edition (None: not yet registered)."""
    query = select(Facility).where(*conditions).order_by(col(Facility.id))
    facilities = list(session.exec(query))
    return _subjects(session, facilities, lambda response: response.questionnaire_id == version_id)


def _subjects(session: Session, facilities: list[Facility], counts) -> list[Subject]:
    """Pair each facility with its current answers when `counts(response)` says they count."""
    ids = [f.id for f in facilities]
    responses = {}
    for start in range(0, len(ids), BATCH):
        responses.update(current_responses(session, ids[start : start + BATCH]))
    subjects = []
    for facility in facilities:
        response = responses.get(facility.id)
        answers = dict(response.answers) if response is not None and counts(response) else None
        subjects.append(Subject(facility, answers))
    return subjects


# --- the report ------------------------------------------------------------------------------


def build_report(
    title: str,
    questionnaire: Questionnaire,
    subjects: Sequence[Subject],
    areas: Sequence[Municipality],
    staff: bool,
    now: datetime | None = None,
) -> StudyReport:
    """Tally the subjects' answers into the report for one audience (staff or public)."""
    if not staff and not has_public_version(questionnaire):
        raise HearingNotPublic()
    names = {m.code: m.name for m in areas if m.code}
    shown = [i for i in questionnaire.items if staff or not i.professional_only]
    respondents = [s for s in subjects if s.responded]
    tallied = [s for s in respondents if staff or s.listed_publicly]
    breakdown = _breakdown_items(shown)
    mixed = len({_category(s.facility) for s in subjects}) > 1
    sections = tuple(
        SectionTally(
            section.key,
            section.title_ja,
            section.title_en,
            tuple(
                tally_item(item, tallied, names, staff) for item in section.items if item in shown
            ),
        )
        for section in questionnaire.sections
    )
    return StudyReport(
        title=title,
        questionnaire=questionnaire,
        staff=staff,
        generated_at=now or utcnow(),
        in_scope=len(subjects),
        respondents=len(respondents),
        sections=tuple(s for s in sections if s.items),
        breakdown_items=breakdown,
        by_municipality=_by_municipality(subjects, breakdown, names, areas, staff),
        by_kind=_by_kind(subjects, breakdown, mixed, staff),
        maps=_maps(shown, subjects, staff),
        mixed_categories=mixed,
        withheld=len(respondents) - len(tallied),
    )


def _is_empty(value: Any) -> bool:
    """Tell whether a stored answer counts as not given."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == [] or value == ()


def tally_item(
    item: Item, respondents: Sequence[Subject], names: dict[str, str], staff: bool
) -> ItemTally:
    """Tally one item over the respondents' answers."""
    given = [(s, s.answers.get(item.key)) for s in respondents]
    if item.type == "facility_links":
        given = [(s, stored_links(v)) for s, v in given]
    given = [(s, v) for s, v in given if not _is_empty(v)]
    answered, unanswered = len(given), len(respondents) - len(given)
    if item.type in ("choice", "multi"):
        return ItemTally(item, answered, unanswered, counts=_counts(item, [v for _s, v in given]))
    if item.type == "facility_links":
        return ItemTally(item, answered, unanswered, counts=link_counts([v for _s, v in given]))
    if item.type == "integer":
        numbers = [int(v) for _s, v in given if _is_number(v)]
        return ItemTally(
            item, len(numbers), len(respondents) - len(numbers), summary=summarise(numbers)
        )
    texts = tuple(
        TextAnswer(
            s.facility.name if staff else "",
            names.get(s.facility.municipality_code[:5], ""),
            str(v).strip(),
        )
        for s, v in given
        if staff or s.listed_publicly
    )
    return ItemTally(item, answered, unanswered, texts=texts)


def _is_number(value: Any) -> bool:
    """Tell whether a stored answer is a whole number (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _counts(item: Item, values: list[Any]) -> tuple[Count, ...]:
    """Count each choice (a multi answer counts once per value chosen), then unknown values."""
    counter: Counter[str] = Counter()
    for value in values:
        counter.update(set(value) if isinstance(value, list | tuple) else {value})
    total = len(values)
    known = [c.value for c in item.choices]
    rows = [
        Count(c.value, c.ja, c.en, counter[c.value], counter[c.value] / total if total else 0.0)
        for c in item.choices
    ]
    others = sorted(str(v) for v in counter if v not in known)
    rows += [Count(v, v, v, counter[v], counter[v] / total) for v in others]
    return tuple(rows)


def link_counts(answers: list[list[dict[str, Any]]]) -> tuple[Count, ...]:
    """Count each facility named (once per answer), most named first, by its stored name."""
    counter: Counter[int] = Counter()
    labels: dict[int, str] = {}
    for links in answers:
        for link in links:
            labels.setdefault(link["id"], str(link["name"]).strip() or f"#{link['id']}")
        counter.update({link["id"] for link in links})
    total = len(answers)
    order = sorted(counter, key=lambda i: (-counter[i], labels[i], i))
    return tuple(Count(str(i), labels[i], labels[i], counter[i], counter[i] / total) for i in order)


def summarise(numbers: list[int]) -> IntegerSummary | None:
    """Return the five-number summary and bins of some whole numbers (None without any)."""
    if not numbers:
        return None
    ordered = sorted(numbers)
    if len(ordered) > 1:
        q1, median, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = median = q3 = float(ordered[0])
    return IntegerSummary(
        n=len(ordered),
        minimum=ordered[0],
        q1=q1,
        median=median,
        q3=q3,
        maximum=ordered[-1],
        bins=bins(ordered),
    )


def bin_width(low: int, high: int) -> int:
    """Return a round width (1, 2, 5, 10, 20, 50 ...) giving at most MAX_BINS bins."""
    width, factors = 1, (2, 2.5, 2)
    index = 0
    while math.floor(high / width) - math.floor(low / width) + 1 > MAX_BINS:
        width = int(width * factors[index % 3])
        index += 1
    return width


def bins(ordered: list[int]) -> tuple[Bin, ...]:
    """Count sorted whole numbers into consecutive bins of a round width."""
    width = bin_width(ordered[0], ordered[-1])
    start = math.floor(ordered[0] / width) * width
    counter = Counter((n - start) // width for n in ordered)
    last = (ordered[-1] - start) // width
    return tuple(
        Bin(start + k * width, start + (k + 1) * width - 1, counter[k]) for k in range(last + 1)
    )


# --- breakdowns ------------------------------------------------------------------------------


def _breakdown_items(items: Sequence[Item]) -> tuple[Item, ...]:
    """Required choice items asked of everyone; else the first choice item; else none."""
    choices = [i for i in items if i.type == "choice"]
    chosen = [i for i in choices if i.required and i.show_if is None]
    return tuple(chosen or choices[:1])


def _category(facility: Facility) -> str:
    """Return the facility's category (psychiatric when the model has none)."""
    return getattr(facility, "category", "psychiatric") or "psychiatric"


def _row(
    key: str, name: str, subjects: list[Subject], breakdown: Sequence[Item], staff: bool
) -> GroupRow:
    """Count one group's facilities, respondents and breakdown answers."""
    respondents = [s for s in subjects if s.responded]
    tallied = [s for s in respondents if staff or s.listed_publicly]
    counts = {
        item.key: tuple(
            sum(1 for s in tallied if s.answers.get(item.key) == c.value) for c in item.choices
        )
        for item in breakdown
    }
    return GroupRow(key, name, len(subjects), len(respondents), counts)


def _by_municipality(
    subjects: Sequence[Subject],
    breakdown: Sequence[Item],
    names: dict[str, str],
    areas: Sequence[Municipality],
    staff: bool,
) -> tuple[GroupRow, ...]:
    """One row per municipality with facilities in scope, in the caller's order; then the rest."""
    grouped: dict[str, list[Subject]] = defaultdict(list)
    for subject in subjects:
        code = subject.facility.municipality_code[:5]  # a 6-digit code ends in a check digit
        grouped[code if code in names else UNKNOWN_MUNICIPALITY].append(subject)
    rows = [
        _row(m.code, m.name, grouped[m.code], breakdown, staff)
        for m in areas
        if m.code and grouped.get(m.code)
    ]
    if grouped.get(UNKNOWN_MUNICIPALITY):
        unknown = grouped[UNKNOWN_MUNICIPALITY]
        rows.append(_row(UNKNOWN_MUNICIPALITY, "", unknown, breakdown, staff))
    return tuple(rows)


def _by_kind(
    subjects: Sequence[Subject], breakdown: Sequence[Item], mixed: bool, staff: bool
) -> tuple[GroupRow, ...]:
    """One row per kind (per category and kind when categories are mixed), in a stable order."""
    grouped: dict[str, list[Subject]] = defaultdict(list)
    for subject in subjects:
        kind = subject.facility.kind or ""
        key = f"{_category(subject.facility)}:{kind}" if mixed else kind
        grouped[key].append(subject)
    return tuple(_row(key, key, grouped[key], breakdown, staff) for key in sorted(grouped))


# --- the acceptance map ----------------------------------------------------------------------


def map_items(items: Sequence[Item]) -> tuple[Item, ...]:
    """Required choice items whose values include yes, conditional and no."""
    return tuple(
        i
        for i in items
        if i.type == "choice"
        and i.required
        and set(STATUS_OF_VALUE) <= {c.value for c in i.choices}
    )


def status(subject: Subject, item: Item | None) -> str:
    """Return a facility's status on the map of one item (or answered / none)."""
    if item is None:
        return "answered" if subject.responded else "none"
    if not subject.responded:
        return "none"
    return STATUS_OF_VALUE.get(subject.answers.get(item.key), "none")


def _maps(
    items: Sequence[Item], subjects: Sequence[Subject], staff: bool
) -> tuple[AcceptanceMap, ...]:
    """One map per map item; one map of respondents when the questionnaire has none."""
    chosen: Sequence[Item | None] = map_items(items) or (None,)
    return tuple(_map(item, subjects, staff) for item in chosen)


def _map(item: Item | None, subjects: Sequence[Subject], staff: bool) -> AcceptanceMap:
    """Place the located facilities with their status for one item."""
    statuses = STATUSES if item is not None else ANSWERED_STATUSES
    points, counts, unlocated = [], Counter(), 0
    for subject in subjects:
        if not staff and subject.responded and not subject.listed_publicly:
            continue  # withheld: the public must not read its answer off the map
        value = status(subject, item)
        counts[value] += 1
        f = subject.facility
        if f.lat is None or f.lng is None:
            unlocated += 1
            continue
        points.append(MapPoint(f.name if staff else "", f.lat, f.lng, value))
    return AcceptanceMap(item, statuses, tuple(points), {s: counts[s] for s in statuses}, unlocated)
