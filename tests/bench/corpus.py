"""A deterministic synthetic corpus of clinic-like documents and probe queries with answers.

Relevance is decided from the structured attributes the generator chose (reading, ward, town,
station, conditions, planted flags), never from the text, so no analyzer is graded by itself.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from index.geo import gazetteer

BRANDS = [
    ("さくら", "さくら"),
    ("サクラ", "さくら"),
    ("桜", "さくら"),
    ("ひまわり", "ひまわり"),
    ("あおば", "あおば"),
    ("青葉", "あおば"),
    ("みどり", "みどり"),
    ("やすらぎ", "やすらぎ"),
    ("ひだまり", "ひだまり"),
    ("こころ", "こころ"),
    ("ココロ", "こころ"),
    ("心", "こころ"),
    ("すみれ", "すみれ"),
    ("つばさ", "つばさ"),
    ("あかり", "あかり"),
    ("なごみ", "なごみ"),
    ("そよかぜ", "そよかぜ"),
    ("森の", "もりの"),
    ("ひかり", "ひかり"),
    ("はなみずき", "はなみずき"),
]
TYPES = [
    ("メンタルクリニック", "めんたるくりにっく"),
    ("心療内科", "しんりょうないか"),
    ("心療内科クリニック", "しんりょうないかくりにっく"),
    ("こころのクリニック", "こころのくりにっく"),
    ("心のクリニック", "こころのくりにっく"),
    ("精神科クリニック", "せいしんかくりにっく"),
    ("メンタルヘルスクリニック", "めんたるへるすくりにっく"),
    ("神経科クリニック", "しんけいかくりにっく"),
    ("クリニック", "くりにっく"),
    ("病院", "びょういん"),
    ("診療所", "しんりょうじょ"),
    ("メンタルケアセンター", "めんたるけあせんたー"),
]
CORPS = [("", ""), ("医療法人社団", "いりょうほうじんしゃだん"), ("医療法人", "いりょうほうじん")]
CONDITIONS = {
    "産後うつ病": ["産後うつ病", "産後うつ", "産後のうつ病"],
    "不安症": ["不安症", "不安障害"],
    "強迫症": ["強迫症", "強迫性障害"],
    "双極症": ["双極症", "双極性障害"],
    "出産恐怖": ["出産恐怖", "出産への恐怖"],
    "パニック症": ["パニック症", "パニック障害"],
    "摂食障害": ["摂食障害"],
    "統合失調症": ["統合失調症"],
}
FORCED_STATIONS = [
    "新宿",
    "亀戸",
    "御茶ノ水",
    "千駄ケ谷",
    "阿佐ケ谷",
    "雑司が谷",
    "自由が丘",
    "池袋",
]


@dataclass
class Doc:
    """One synthetic facility: display texts plus the attributes relevance is decided on."""

    id: str
    name: str
    kana: str
    address: str
    body: str
    body_pro: str
    reading: str
    brand: str
    kind: str
    station: str = ""
    ward: str = ""
    town: str = ""
    conditions: set[str] = field(default_factory=set)
    flags: set[str] = field(default_factory=set)

    def texts(self) -> dict[str, str]:
        """Return the text groups as indexed."""
        return {
            "name": self.name,
            "kana": self.kana,
            "address": self.address,
            "body": self.body,
            "body_pro": self.body_pro,
        }


@dataclass
class Probe:
    """A query, what it tests, and the ids of the documents that answer it."""

    q: str
    what: str
    relevant: set[str]


def to_kata(text: str) -> str:
    """Convert hiragana to katakana."""
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def half_width(text: str) -> str:
    """Write katakana in half-width forms (the legacy spelling of some registries)."""
    out = []
    for ch in to_kata(text):
        base = unicodedata.normalize("NFD", ch)
        name = unicodedata.name(base[0], "")
        try:
            out.append(unicodedata.lookup("HALFWIDTH " + name))
        except KeyError:
            out.append(base[0])
        if len(base) > 1:
            out.append("ﾞ" if base[1] == "\u3099" else "ﾟ")
    return "".join(out)


def legacy_kana(text: str) -> str:
    """Write small kana large, as old registry kana fields do (クリニツク)."""
    return to_kata(text).translate(str.maketrans("ャュョッァィゥェォ", "ヤユヨツアイウエオ"))


def wide_digits(text: str) -> str:
    """Write digits and dashes full-width."""
    return text.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))


class Generator:
    """Build documents from real Tokyo wards, towns and stations with a fixed seed."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.towns = [t for t in gazetteer.load_towns(gazetteer.TOKYO) if t.city.endswith("区")]
        stations = [s for s in gazetteer.load_stations() if s.prefecture_code == "13"]
        self.stations = [s for s in stations if "(" not in s.name]
        self.by_name = {s.name: s for s in self.stations}

    def doc(self, n: int) -> Doc:
        """Return document n."""
        rng = self.rng
        town = rng.choice(self.towns)
        station = self._station(n)
        conditions = set(rng.sample(sorted(CONDITIONS), rng.randint(0, 3)))
        name, reading, brand, kind = self._name(station)
        doc = Doc(f"d{n}", name, self._kana(reading), "", "", "", reading, brand, kind)
        doc.station, doc.ward, doc.town, doc.conditions = (
            station.name,
            town.city,
            town.town,
            conditions,
        )
        doc.address = self._address(town)
        doc.body = self._body(doc)
        doc.body_pro = f"紹介状はFAX 03-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}へ。"
        return doc

    def _station(self, n: int):
        """Pick the nearest-station of a document; a few stations are always present."""
        if n % 50 < len(FORCED_STATIONS):
            return self.by_name[FORCED_STATIONS[n % 50]]
        return self.rng.choice(self.stations)

    def _name(self, station) -> tuple[str, str, str, str]:
        """Return (name, reading, brand reading, type) for one facility."""
        rng = self.rng
        brand, brand_r = rng.choice(BRANDS)
        kind, kind_r = rng.choice(TYPES)
        corp, corp_r = rng.choices(CORPS, weights=[6, 3, 1])[0]
        place, place_r = (station.name, station.kana) if rng.random() < 0.7 else ("", "")
        pattern = rng.randrange(3)
        if pattern == 0:
            name, reading = place + brand + kind, place_r + brand_r + kind_r
        elif pattern == 1:
            name, reading = brand + kind + place, brand_r + kind_r + place_r
        else:
            name, reading = place + kind, place_r + kind_r
            brand_r = ""
        if corp:
            name = f"{corp}{brand}会 {name}"
            reading = f"{corp_r}{brand_r}かい {reading}"
        return name, reading, brand_r, kind

    def _kana(self, reading: str) -> str:
        """Store the reading as registries do: katakana mostly, sometimes otherwise."""
        style = self.rng.choices(["kata", "hira", "legacy", "half"], weights=[70, 15, 10, 5])[0]
        return {"kata": to_kata, "hira": str, "legacy": legacy_kana, "half": half_width}[style](
            reading
        )

    def _address(self, town) -> str:
        """Return an address written in one of the usual ways."""
        rng = self.rng
        number = f"{rng.randint(1, 30)}-{rng.randint(1, 20)}"
        if rng.random() < 0.3:
            number += (
                f" {rng.choice(['ABC', 'サンライズ', '第二', 'グリーン'])}ビル{rng.randint(1, 9)}階"
            )
        if rng.random() < 0.15:
            number = wide_digits(number)
        pref = "東京都" if rng.random() < 0.85 else ""
        return f"{pref}{town.city}{town.town}{number}"

    def _body(self, doc: Doc) -> str:
        """Return free text a clinic might write for referrers."""
        rng = self.rng
        parts = [f"{doc.station}駅から徒歩{rng.randint(1, 15)}分。"]
        labels = [rng.choice(CONDITIONS[c]) for c in sorted(doc.conditions)]
        if labels:
            parts.append(
                rng.choice(
                    [
                        f"{'、'.join(labels)}の方の初診は紹介状をお持ちください。",
                        f"妊娠中・産後の{'や'.join(labels)}の診療を行っています。",
                        f"{'、'.join(labels)}の方も受け入れています。",
                    ]
                )
            )
        if rng.random() < 0.2:
            other = rng.choice(self.stations).name
            parts.append(f"{other}駅からのバスもご利用いただけます。")
        parts.append(rng.choice(["東京都の妊産婦メンタルヘルス事業に参加しています。", ""]))
        return "".join(parts)


def plant(docs: list[Doc]) -> None:
    """Add the documents that trap or test specific behaviour."""
    docs[1].name, docs[1].reading, docs[1].brand = (
        "こころのクリニック新宿",
        "こころのくりにっくしんじゅく",
        "",
    )
    docs[1].kana = to_kata(docs[1].reading)
    for i in (2, 3, 4):
        docs[i].body += "京都府から転居された方の継続診療も受け入れています。"
        docs[i].flags.add("kyoto")
    docs[5].name = "東京都立松沢病院"
    docs[5].reading = "とうきょうとりつまつざわびょういん"
    docs[5].kana = to_kata(docs[5].reading)
    docs[5].flags.add("toritsu")
    docs[6].body += "京都大学医学部附属病院と連携しています。"
    docs[6].flags.add("kyoto")


def corpus(n: int, seed: int = 20260301) -> list[Doc]:
    """Return n documents, the same for the same seed."""
    gen = Generator(seed)
    docs = [gen.doc(i) for i in range(n)]
    plant(docs)
    return docs


def _ids(docs: list[Doc], pred: Callable[[Doc], bool]) -> set[str]:
    """Return the ids of the documents that satisfy pred."""
    return {d.id for d in docs if pred(d)}


def _named_or_in(ward: str, station: str) -> Callable[[Doc], bool]:
    """Return a predicate: in the ward, or named after the station."""
    return lambda d: d.ward == ward or (station in d.name and d.station == station)


def fixed_probes(docs: list[Doc]) -> list[Probe]:
    """Return the hand-written probes."""
    r = _ids
    cond = {c: r(docs, lambda d, c=c: c in d.conditions) for c in CONDITIONS}
    shinjuku = r(docs, _named_or_in("新宿区", "新宿"))
    toritsu = r(
        docs, lambda d: "toritsu" in d.flags or ("都立" in d.station and d.station in d.name)
    )
    kokoro = r(docs, lambda d: "こころ" in d.reading)
    sakura = r(docs, lambda d: "さくら" in d.reading)
    return [
        Probe("こころ", "kana word in names", kokoro),
        Probe("ココロ", "katakana of a word stored in hiragana", kokoro),
        Probe("こころのクリニック新宿", "full name", r(docs, lambda d: d.id == "d1")),
        Probe("心", "one character", r(docs, lambda d: "心" in d.name)),
        Probe("新宿", "ward or name beats mention", shinjuku),
        Probe("京都", "京都 not inside 東京都", r(docs, lambda d: "kyoto" in d.flags)),
        Probe("都立", "都立 hospital or place", toritsu),
        Probe("松沢病院", "partial hospital name", r(docs, lambda d: "toritsu" in d.flags)),
        Probe("産後うつ", "condition in free text", cond["産後うつ病"]),
        Probe("産後うつ病", "condition label", cond["産後うつ病"]),
        Probe("強迫症", "condition", cond["強迫症"]),
        Probe("双極症", "condition", cond["双極症"]),
        Probe("出産恐怖", "condition", cond["出産恐怖"]),
        Probe("不安症", "condition", cond["不安症"]),
        Probe("パニック", "condition prefix", cond["パニック症"]),
        Probe("ｻｸﾗ", "half-width katakana", sakura),
        Probe("サクラ", "katakana", sakura),
        Probe("さくら", "hiragana", sakura),
        Probe(
            "千駄ヶ谷", "ヶ for ケ", r(docs, lambda d: d.station == "千駄ケ谷" and "千駄" in d.name)
        ),
        Probe(
            "阿佐ヶ谷", "ヶ for ケ", r(docs, lambda d: d.station == "阿佐ケ谷" and "阿佐" in d.name)
        ),
        Probe(
            "雑司ヶ谷", "ヶ for が", r(docs, lambda d: d.station == "雑司が谷" and "雑司" in d.name)
        ),
        Probe(
            "御茶の水", "の for ノ", r(docs, lambda d: d.station == "御茶ノ水" and "御茶" in d.name)
        ),
        Probe("新宿 産後うつ", "two words", shinjuku & cond["産後うつ病"]),
        Probe(
            "亀戸　強迫症",
            "full-width space",
            r(docs, lambda d: "亀戸" in d.name + d.town) & cond["強迫症"],
        ),
        Probe(
            "しんりょうないか",
            "hiragana reading of kanji name",
            r(docs, lambda d: "しんりょうないか" in d.reading),
        ),
        Probe(
            "メンタルクリニック",
            "common type",
            r(docs, lambda d: "めんたるくりにっく" in d.reading),
        ),
    ]


def sampled_probes(docs: list[Doc], seed: int = 7) -> list[Probe]:
    """Return probes drawn from random documents: names, kana in both scripts, addresses."""
    rng = random.Random(seed)
    probes: list[Probe] = []
    for d in rng.sample(docs[10:], 6):
        short = d.name.split(" ")[-1]
        probes.append(Probe(short, "name", _ids(docs, lambda x, s=short: s in x.name)))
    for d in rng.sample([d for d in docs[10:] if d.brand], 5):
        q = to_kata(d.brand) if rng.random() < 0.5 else d.brand
        probes.append(
            Probe(q, "brand either script", _ids(docs, lambda x, b=d.brand: b in x.reading))
        )
    for d in rng.sample(docs[10:], 6):
        flip = to_kata(d.reading) if d.kana == d.reading else d.reading
        q, key = flip.split(" ")[-1], d.reading.split(" ")[-1]
        rel = _ids(docs, lambda x, r=key: r in x.reading)
        probes.append(Probe(q, "reading other script", rel))
    for d in rng.sample(docs[10:], 6):
        q = f"{d.ward}{d.town}"
        rel = _ids(docs, lambda x, w=d.ward, t=d.town: (x.ward, x.town) == (w, t))
        probes.append(Probe(q, "ward + town", rel))
    for d in rng.sample(docs[10:], 3):
        q = wide_digits(d.address.split("区", 1)[1].split(" ")[0]).replace("－", "ー")
        probes.append(Probe(q, "town + full-width number", {d.id}))
    return probes


def probes(docs: list[Doc]) -> list[Probe]:
    """Return every probe."""
    return fixed_probes(docs) + sampled_probes(docs)
