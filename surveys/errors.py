"""Survey-domain exceptions; each carries a message that is safe to show to the user."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.bilingual import bilingual


class UserFacingError(Exception):
    """Base of every domain error: `message_ja` / `message_en` are safe to show to the user,
    `status` suits an HTTP reply."""

    status = 400
    message_ja = "処理できませんでした。"
    message_en = "The request could not be processed."

    def __init__(self, message_ja: str | None = None, message_en: str | None = None):
        if message_ja:
            self.message_ja = message_ja
        if message_en:
            self.message_en = message_en
        super().__init__(self.message_en)

    def message(self, lang: str = "ja") -> str:
        """Return the message in the given language."""
        return bilingual(lang, self.message_ja, self.message_en)


class SurveyError(UserFacingError):
    """Base class of the survey domain's errors."""


class QuestionnaireError(SurveyError):
    """A questionnaire definition file is broken; the message names the file and item."""

    status = 500


class AnswerError(SurveyError):
    """Submitted answers do not satisfy the questionnaire; `errors` maps item key to message."""

    status = 422

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        keys = ", ".join(sorted(errors))
        super().__init__(
            f"回答に不備があります（{keys}）。", f"Some answers need attention ({keys})."
        )


class WrongQuestionnaire(SurveyError):
    """The questionnaire is for another kind of facility (a hearing given to a clinic, say)."""

    status = 400
    message_ja = "この調査票は、この医療機関・窓口の区分向けではありません。"
    message_en = "This questionnaire is not for this kind of facility or contact point."


class VersionConflict(SurveyError):
    """Someone saved a newer version after the form was opened."""

    status = 409
    message_ja = "この回答は、画面を開いた後に別の方が更新しました。最新の内容を確認してください。"
    message_en = "Someone else saved these answers after you opened the form. Check the latest."


class NothingToConfirm(SurveyError):
    """'Still accurate' was pressed for a facility that has never answered."""

    status = 409
    message_ja = "まだ回答がないため「内容に変更なし」を登録できません。先に回答してください。"
    message_en = "There are no answers yet to confirm. Please answer the survey first."


class InvitationError(SurveyError):
    """An invitation link cannot be used."""

    status = 404
    message_ja = "この招待リンクは無効です。事務局にお問い合わせください。"
    message_en = "This invitation link is not valid. Please contact the programme office."


class InvitationExpired(InvitationError):
    """The campaign the invitation belongs to has closed."""

    status = 410
    message_ja = "この招待リンクは有効期限が切れています。事務局に新しいリンクを依頼してください。"
    message_en = "This invitation link has expired. Please ask the programme office for a new one."


class InvitationUsed(InvitationError):
    """The invitation was already used once."""

    status = 410
    message_ja = (
        "この招待リンクは既に使用されています。回答を確認・修正するには、"
        "下の「医療機関の方へ」からログイン用リンクを受け取ってください。"
    )
    message_en = (
        "This invitation link has already been used. To see or change your answers, "
        "ask for a sign-in link under 'For clinics' below."
    )


@dataclass(frozen=True)
class ImportProblem:
    """Why a row of an import file (0 = the whole file) was refused or flagged."""

    row: int
    ja: str
    en: str
    file: str = ""  # the file the row is counted in, when it is not the main file

    def line(self, lang: str = "ja") -> str:
        """Render the problem in one language: '3行目: 名称が空です' / 'row 3: name is empty'."""
        row = bilingual(lang, f"{self.row}行目", f"row {self.row}") if self.row else ""
        where = " ".join(p for p in (self.file, row) if p) or bilingual(
            lang, "ファイル全体", "whole file"
        )
        return f"{where}: {bilingual(lang, self.ja, self.en)}"


class FacilityImportError(SurveyError):
    """A facility import file was refused; `problems` says which rows and why."""

    status = 422

    def __init__(self, problems: list[ImportProblem]):
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(
            f"取り込みを中止しました（{count}件の問題）。何も保存していません。",
            f"Import refused ({count} problem{'' if count == 1 else 's'}). Nothing was stored.",
        )

    def lines(self, lang: str = "ja") -> list[str]:
        """Return one rendered line per problem, in the given language."""
        return [p.line(lang) for p in self.problems]
