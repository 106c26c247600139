"""The import's reasons for refusing or flagging a row, and the exception that carries one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from surveys.errors import ImportProblem

# Every reason the import gives, in Japanese and English: one place to review the wording.
MESSAGES = {
    "xls": ("古い Excel 形式（.xls）は読めません。.xlsx か CSV UTF-8 で保存してください。",
            "Old Excel files (.xls) are not supported: save as .xlsx or CSV UTF-8."),
    "not_xlsx": ("拡張子は .xlsx ですが Excel ファイルではありません。",
                 "The file is named .xlsx but is not an Excel workbook."),
    "bad_xlsx": ("Excel ファイルとして読めません。", "Not a readable Excel workbook."),
    "not_zip": ("拡張子は .zip ですが ZIP ファイルではありません。",
                "The file is named .zip but is not a ZIP file."),
    "zip_members": ("ZIP の中に CSV がちょうど1つ必要です。", "The ZIP must hold exactly one CSV."),
    "zip_as_csv": ("CSV ではなく ZIP / Excel ファイルです。拡張子を確認してください。",
                   "This is a ZIP or Excel file, not CSV: check the file extension."),
    "utf16": ("文字コードが UTF-16 です。CSV UTF-8（コンマ区切り）で保存し直してください。",
              "The file is UTF-16: save it again as CSV UTF-8."),
    "sjis": ("文字コードが Shift_JIS のようです。UTF-8 で保存し直してください"
             "（Excel では「CSV UTF-8（コンマ区切り）」）。",
             "The file looks like Shift_JIS: save it again as UTF-8 "
             "(in Excel: 'CSV UTF-8 (Comma delimited)')."),
    "not_utf8": ("文字コードが UTF-8 ではありません。UTF-8 で保存し直してください。",
                 "The file is not UTF-8: save it again as UTF-8."),
    "bom_mismatch": ("先頭に UTF-8 の印（BOM）がありますが、中身は UTF-8 ではありません"
                     "（別の文字コードで上書き保存されたようです）。元のファイルを使ってください。",
                     "The file starts with a UTF-8 byte order mark but the text is not UTF-8 "
                     "(saved again in another encoding?): use the original file."),
    "bom_inside": ("この行の先頭に UTF-8 の印（BOM）があります。複数のファイルがつながって"
                   "いないか確認してください。",
                   "A UTF-8 byte order mark starts this row: were two files joined together?"),
    "cut_short": ("ファイルが途中で切れています（最後の行に改行がありません）。"
                  "もう一度ダウンロードしてください。",
                  "The file is cut short (its last line has no line ending): download it again."),
    "row_width": ("列の数が見出しと合いません（{found}列、見出しは{expected}列）。"
                  "ファイルが途中で切れていないか確認してください。",
                  "This row has {found} columns, the header {expected}: is the file cut short?"),
    "no_rows": ("見出し行だけで、データ行がありません。",
                "The file holds only its header row, no data."),
    "too_many_rows": ("行が多すぎます（{limit}行まで）。空の行や書式だけの行が下に続いて"
                      "いないか確認してください。",
                      "Too many rows (at most {limit}): check for empty or formatted-only rows "
                      "below the data."),
    "too_slow": ("ファイルの読み込みが{seconds}秒を超えたため中止しました。"
                 "不要な行や列を削除してください。",
                 "Reading the file took longer than {seconds} seconds and was stopped: remove "
                 "unneeded rows and columns."),
    "kind_mismatch": ("施設票（{main}）と診療科・診療時間票（{other}）の種類が違います。"
                      "病院どうし・診療所どうしの組み合わせで選んでください。",
                      "The facility file lists {main_en} but the speciality file {other_en}: "
                      "pair the hospital files or the clinic files."),
    "edition_mismatch": ("施設票（{main}）と診療科・診療時間票（{other}）の版の日付が違います。"
                         "同じ日付の2つのファイルを選んでください。",
                         "The facility file ({main}) and the speciality file ({other}) are of "
                         "different editions: use two files of the same date."),
    "no_match": ("診療科・診療時間票に、施設票の医療機関が1件もありません（{count}件中）。"
                 "組み合わせるファイルが正しいか確認してください。",
                 "None of the {count} facilities of the facility file is in the speciality "
                 "file: check that the two files belong together."),
    "none_in_prefecture": ("この都道府県（コード {prefecture}）の医療機関が1件もありません。"
                           "別の都道府県のファイルではありませんか。",
                           "No facility of this prefecture (code {prefecture}) in the file: is "
                           "it another prefecture's file?"),
    "bad_bytes": ("この行の付近に UTF-8 として読めない文字があります。",
                  "Bytes that are not UTF-8 near this row."),
    "bad_csv": ("CSV として読めません（{error}）。", "Not valid CSV ({error})."),
    "unknown_format": ("見出し行から形式を判断できません。医療情報ネットの施設票（ID, 正式名称, …）"
                       "か、施設一覧テンプレート（施設ID, 名称, …）を使ってください。",
                       "Unknown headers: use an MHLW facility file (ID, 正式名称, ...) or the "
                       "facility template (施設ID, 名称, ...)."),
    "speciality_as_main": ("これは診療科・診療時間票です。施設票を指定し、"
                           "この票は --speciality で渡してください。",
                           "This is the speciality/hours file: give the facility file, and this "
                           "one as --speciality."),
    "speciality_needed": ("医療情報ネットの施設票には診療科・診療時間票"
                          "（--speciality）が必要です。",
                          "An MHLW facility file needs its speciality/hours file (--speciality)."),
    "speciality_unused": ("診療科・診療時間票は医療情報ネットの施設票とだけ使えます。",
                          "The speciality file goes only with an MHLW facility file."),
    "out_of_scope": ("歯科診療所・薬局・助産所の票は対象外です。"
                     "病院か診療所の施設票を使ってください。",
                     "Dental, pharmacy and maternity files are out of scope: use the hospital or "
                     "clinic facility file."),
    "unknown_kind": ("病院・診療所のどちらの施設票か判断できません。"
                     "ファイル名に hospital か clinic を含めてください"
                     "（例: 02-1_clinic_facility_info_20260601.csv）。",
                     "Cannot tell whether this lists hospitals or clinics: keep 'hospital' or "
                     "'clinic' in the file name (e.g. 02-1_clinic_facility_info_20260601.csv)."),
    "older_edition": ("この版（{edition}）は、すでに取り込んだ版（{last}）より古いため"
                      "取り込みません。古い版に戻す場合は --force（管理画面では「古い版でも"
                      "取り込む」）を指定してください。",
                      "This edition ({edition}) is older than the one already imported ({last}). "
                      "To go back to an older edition, use --force (on the admin page: "
                      "'Import even if older')."),
    "missing_columns": ("必要な列がありません: {columns}", "Missing required columns: {columns}"),
    "empty_id": ("IDが空です", "The ID is empty"),
    "duplicate_id": ("IDが重複しています（{first}行目と同じ {id}）",
                     "Duplicate ID {id} (same as row {first})"),
    "empty": ("{label}が空です", "{field} is empty"),
    "too_long": ("{label}が長すぎます（{limit}文字まで）",
                 "{field} is too long (at most {limit} characters)"),
    "kind": ("種別は「病院」か「診療所」です（「{value}」）",
             "Kind must be 病院 (hospital) or 診療所 (clinic), not '{value}'"),
    "municipality": ("市区町村コードが正しくありません（「{value}」）",
                     "Invalid municipality code '{value}'"),
    "check_digit": ("市区町村コードの検査数字が合いません（「{value}」）",
                    "Municipality code '{value}': wrong check digit"),
    "other_prefecture_code": ("市区町村コード「{value}」が都道府県コード{prefecture}と合いません",
                              "Municipality code '{value}' is not in prefecture {prefecture}"),
    "postal_code": ("郵便番号が正しくありません（「{value}」）", "Invalid postal code '{value}'"),
    "phone": ("電話番号が正しくありません（「{value}」）", "Invalid phone number '{value}'"),
    "email": ("メールアドレスが正しくありません（「{value}」）",
              "Invalid e-mail address '{value}'"),
    "url": ("ホームページは http:// か https:// で始まるアドレスです（「{value}」）",
            "The website must be an http(s) address, not '{value}'"),
    "not_number": ("{label}が数値ではありません（「{value}」）",
                   "The {field} '{value}' is not a number"),
    "outside_japan": ("{label}が日本の範囲外です（{value}）",
                      "The {field} {value} is outside Japan ({low}-{high})"),
    "no_departments": ("診療科が空です", "No department given"),
    "category": ("区分は「精神科」「産科」「相談窓口」のいずれかです（「{value}」）",
                 "Category must be 精神科 (psychiatric), 産科 (obstetric) or 相談窓口 "
                 "(municipal contact point), not '{value}'"),
    "contact_kind": ("相談窓口の種別は「こども家庭センター」「保健センター」「その他の相談窓口」"
                     "のいずれかです（「{value}」）",
                     "A contact point's kind must be こども家庭センター (family centre), "
                     "保健センター (health centre) or その他の相談窓口 (other), not '{value}'"),
    "facility_kind": ("医療機関の種別は「病院」か「診療所」です（「{value}」）",
                      "A medical institution's kind must be 病院 (hospital) or 診療所 (clinic), "
                      "not '{value}'"),
    "contact_phone": ("相談窓口には電話番号が必要です", "A contact point needs a phone number"),
    "website_dropped": ("ホームページのアドレスが正しくないため空欄にしました（「{value}」）",
                        "website '{value}' is not an http(s) address: left empty"),
    "no_coordinates": ("座標がありません（距離検索に出ません）",
                       "no coordinates (not found by distance)"),
    "bad_time": ("時刻を読めないため診療時間から除きました（{value}）",
                 "unreadable time {value} left out of the hours"),
}  # fmt: skip


def problem(key: str, row: int = 0, **values: Any) -> ImportProblem:
    """Return the problem for a message key, with its values filled in."""
    ja, en = MESSAGES[key]
    return ImportProblem(row, ja.format(**values), en.format(**values))


class Bad(ValueError):
    """One value (or the whole file) is unusable; `problem.row` 0 means the whole file."""

    def __init__(self, key: str, row: int = 0, **values: Any):
        self.problem = problem(key, row, **values)
        super().__init__(f"{self.problem.ja} / {self.problem.en}")

    def at(self, row: int) -> ImportProblem:
        """Return the problem placed at a row of the file."""
        return replace(self.problem, row=row)
