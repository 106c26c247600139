"""Japanese text search as a user notices it, on a small on-disk Whoosh index."""

from __future__ import annotations

import pickle

import pytest
from whoosh import index
from whoosh.fields import ID, Schema
from whoosh.query import Query

from index.text import JaTokenizer, normalize, text_query, text_schema_fields

PUBLIC = ["name", "kana", "address", "body"]
DOCS = [
    dict(id="kokoro", name="こころのクリニック新宿", kana="ココロノクリニックシンジュク",
         address="東京都新宿区西新宿1-1-1", body="新宿駅西口から徒歩5分。"),
    dict(id="sakura", name="さくらメンタルクリニック", kana="サクラメンタルクリニック",
         address="東京都江東区亀戸八丁目5-1 ABCビル3階",
         body="産後うつ、不安症の方の初診は紹介状をお持ちください。"),
    dict(id="himawari", name="ひまわり心療内科", kana="ひまわりしんりょうないか",
         address="東京都世田谷区代沢2-3-4", body="強迫性障害の診療を行っています。"),
    dict(id="matsuzawa", name="東京都立松沢病院", kana="トウキョウトリツマツザワビョウイン",
         address="東京都世田谷区上北沢2-1-1", body="産後うつ病の方も受け入れています。",
         body_pro="紹介は地域連携室へFAXしてください。"),
    dict(id="kyoto", name="あおばクリニック", kana="アオバクリニック",
         address="東京都練馬区豊玉北5-1", body="京都府から転居された方の継続診療も行います。"),
    dict(id="mention", name="みどりクリニック", kana="ミドリクリニック",
         address="東京都中野区中野2-1", body="新宿駅からバスで20分。"),
    dict(id="ward", name="すみれクリニック", kana="スミレクリニック",
         address="東京都新宿区高田馬場1-2", body=""),
    dict(id="kasumi", name="霞ヶ関メンタルクリニック", kana="カスミガセキメンタルクリニック",
         address="東京都千代田区霞が関1-2", body=""),
]  # fmt: skip


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    """An index of the sample facilities, written to disk and reopened (schema unpickled)."""
    folder = tmp_path_factory.mktemp("text_index")
    schema = Schema(id=ID(stored=True, unique=True), **text_schema_fields())
    with index.create_in(folder, schema).writer() as writer:
        for doc in DOCS:
            writer.add_document(**doc)
    return index.open_dir(folder)


def search(ix, q: str, groups: list[str] = PUBLIC) -> list[str]:
    """Return the ids found for what a user typed, best first."""
    query = text_query(q, groups)
    if query is None:
        return []
    with ix.searcher() as searcher:
        return [hit["id"] for hit in searcher.search(query, limit=None)]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ｻｸﾗ", "さくら"),
        ("ＡＢＣビル３階", "abcびる3階"),
        ("霞ヶ関", "霞が関"),
        ("霞ケ関", "霞が関"),
        ("御茶ノ水", "御茶の水"),
        ("メンタルセンター", "めんたるせんた"),
        ("８ー５ー１", "8-5-1"),
        ("亀戸八丁目", "亀戸八丁目"),
        ("八王子", "八王子"),
        ("クリニツク", "くりにつく"),
        ("a\x00b", "a b"),
    ],
)
def test_normalize_folds_width_script_and_variants(typed, expected):
    assert normalize(typed) == expected


def test_search_kokoro_finds_clinic_by_part_of_its_name(ix):
    assert search(ix, "こころ")[0] == "kokoro"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("さくらめんたる", "sakura"), ("ヒマワリシンリョウ", "himawari"), ("ｻｸﾗ", "sakura")],
)
def test_search_kana_finds_reading_stored_in_the_other_script(ix, typed, expected):
    assert search(ix, typed) == [expected]


def test_search_finds_condition_inside_free_text(ix):
    assert set(search(ix, "産後うつ")) == {"sakura", "matsuzawa"}


def test_search_new_diagnosis_name_finds_old_name_in_free_text(ix):
    assert search(ix, "強迫症") == ["himawari"]


def test_search_one_character_finds_names_with_it(ix):
    assert search(ix, "心") == ["himawari"]


def test_search_kyoto_ranks_real_mention_above_tokyo_addresses(ix):
    found = search(ix, "京都")
    assert found[0] == "kyoto"
    assert "matsuzawa" in found  # 東京都 still matches, ranked below


def test_search_shinjuku_ranks_ward_and_name_above_a_mention(ix):
    found = search(ix, "新宿")
    assert set(found[:2]) == {"kokoro", "ward"}
    assert found[2:] == ["mention"]


def test_search_place_name_variant_finds_either_spelling(ix):
    assert search(ix, "霞ケ関")[0] == "kasumi"
    assert search(ix, "かすみがせき") == ["kasumi"]


def test_search_address_finds_town_and_chome(ix):
    assert search(ix, "江東区亀戸八丁目") == ["sakura"]
    assert search(ix, "亀戸８丁目") == []  # numeric chome is the geocoder's job, not text


def test_search_words_must_all_match(ix):
    assert search(ix, "産後うつ　亀戸") == ["sakura"]
    assert search(ix, "産後うつ 新宿") == []


def test_search_professional_text_only_when_group_allowed(ix):
    assert search(ix, "地域連携室") == []
    assert search(ix, "地域連携室", [*PUBLIC, "body_pro"]) == ["matsuzawa"]


@pytest.mark.parametrize(
    "typed",
    [")))", "AND OR", '"', "*", "名前:", "名前:さくら", "\x00\x1f\x7f", "あ" * 5000,
     "さくら " * 100, "(新宿 OR 渋谷)", "\u3000", "", "🙂", "'; DROP TABLE--"],
)  # fmt: skip
def test_text_query_never_raises_on_user_input(ix, typed):
    query = text_query(typed, PUBLIC)
    assert query is None or isinstance(query, Query)
    search(ix, typed)


@pytest.mark.parametrize("typed", [")))", "AND OR", "*", "  \u3000 ", "\x00"])
def test_text_query_returns_none_when_nothing_searchable(typed):
    assert text_query(typed, PUBLIC) is None


def test_text_query_ignores_unknown_groups():
    assert text_query("さくら", ["nonexistent"]) is None


def test_text_schema_fields_names_one_field_per_group():
    assert list(text_schema_fields(["name", "body_pro"], prefix="x_")) == ["x_name", "x_body_pro"]
    with pytest.raises(ValueError, match="unknown text groups"):
        text_schema_fields(["nmae"])


def test_tokenizer_pickles_equal():
    tokenizer = JaTokenizer(words=True)
    assert pickle.loads(pickle.dumps(tokenizer)) == tokenizer
    assert tokenizer != JaTokenizer(words=False)
