"""Checks on an uploaded import file before any parser sees it: type, ZIP bombs, XML tricks."""

from __future__ import annotations

import lzma
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

from surveys.errors import SurveyError

ALLOWED_SUFFIXES = (".csv", ".xlsx", ".zip")
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 64 * 1024


@dataclass(frozen=True)
class UploadLimits:
    """How much an uploaded archive may expand to, and how many members it may hold."""

    max_uncompressed: int = 64 * 1024 * 1024
    max_member: int = 32 * 1024 * 1024
    max_members: int = 2000
    max_ratio: int = 200


class UploadRefused(SurveyError):
    """An uploaded file was refused before reading it; nothing was stored."""

    status = 400

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(*REASONS[reason])


REASONS = {
    "type": (
        "CSV（UTF-8）、Excel（.xlsx）または ZIP のファイルを選んでください。",
        "Choose a CSV (UTF-8), Excel (.xlsx) or ZIP file.",
    ),
    "magic": (
        "ファイルの中身が拡張子と合いません。",
        "The file's contents do not match its extension.",
    ),
    "empty": ("ファイルが空です。", "The file is empty."),
    "bomb": (
        "展開後のサイズが大きすぎるため受け付けられません。",
        "The file would expand to too much data and was refused.",
    ),
    "broken": (
        "ZIP / Excel ファイルが壊れています。",
        "The ZIP or Excel file is damaged.",
    ),
    "xml": (
        "Excel ファイルに許可されていない XML 構文（DTD・エンティティ）が含まれています。",
        "The Excel file holds XML constructs that are not allowed (DTD, entities).",
    ),
}


def check_upload(name: str, stream: BinaryIO, limits: UploadLimits | None = None) -> None:
    """Refuse a file of the wrong type, a ZIP bomb or XML with DTDs; rewinds the stream."""
    limits = limits or UploadLimits()
    suffix = PurePath(name or "").suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadRefused("type")
    head = stream.read(len(ZIP_MAGIC))
    stream.seek(0)
    if not head:
        raise UploadRefused("empty")
    if suffix == ".csv":
        if head.startswith(ZIP_MAGIC) or b"\x00" in stream.read(CHUNK):
            raise UploadRefused("magic")
    elif head != ZIP_MAGIC:
        raise UploadRefused("magic")
    else:
        _check_archive(stream, limits)
    stream.seek(0)


def _check_archive(stream: BinaryIO, limits: UploadLimits) -> None:
    """Check declared and actual sizes of every member, and parse XML members safely."""
    try:
        with zipfile.ZipFile(stream) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            _check_declared(members, limits)
            for member in members:
                _check_member(archive, member, limits)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        NotImplementedError,
        zlib.error,  # a damaged deflate stream
        lzma.LZMAError,
        OSError,
    ) as exc:
        raise UploadRefused("broken") from exc
    except RuntimeError as exc:  # encrypted members
        raise UploadRefused("broken") from exc


def _check_declared(members: list[zipfile.ZipInfo], limits: UploadLimits) -> None:
    """Refuse by the sizes the archive declares, before decompressing anything."""
    total = sum(m.file_size for m in members)
    too_big = any(m.file_size > limits.max_member for m in members)
    ratio = any(
        m.file_size > CHUNK * 16 and m.file_size > m.compress_size * limits.max_ratio
        for m in members
    )
    if len(members) > limits.max_members or total > limits.max_uncompressed or too_big or ratio:
        raise UploadRefused("bomb")


def _check_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: UploadLimits) -> None:
    """Decompress one member with a byte budget (declared sizes may lie); parse XML safely."""
    budget = min(limits.max_member, member.file_size)
    with archive.open(member) as raw:
        stream = _Budgeted(raw, budget)
        if member.filename.lower().endswith((".xml", ".rels", ".vml")):
            try:
                for _event, _element in iterparse(stream, forbid_dtd=True):
                    pass
            except DefusedXmlException as exc:
                raise UploadRefused("xml") from exc
            except ParseError as exc:
                raise UploadRefused("broken") from exc
        else:
            while stream.read(CHUNK):
                pass


class _Budgeted:
    """A read-only stream that refuses to yield more than `budget` bytes."""

    def __init__(self, raw: BinaryIO, budget: int):
        self.raw = raw
        self.left = budget

    def read(self, size: int = -1) -> bytes:
        """Read like a file; refuse when the member expands past its declared size."""
        want = CHUNK if size is None or size < 0 else size
        data = self.raw.read(want)
        self.left -= len(data)
        if self.left < 0:
            raise UploadRefused("bomb")
        return data
