"""Messages: a pair's two texts as literal parts and values, turned into msgid and msgstr."""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass, field

# Names gettext functions take themselves: a placeholder may not use them.
RESERVED = {"string", "context", "singular", "plural", "num"}
PRINTF = re.compile(r"%(?:\((\w*)\))?([-#0 +]?\d*(?:\.\d+)?)([diouxXeEfFgGcrs%])")
Known = dict[tuple[str | None, str], str]


class Refused(Exception):
    """A call the converter leaves alone; the message says why."""


@dataclass
class Slot:
    """A value inside a message: its expression and printf conversion."""

    expr: str
    spec: str


@dataclass
class Text:
    """One side of a pair: literal parts and slots, and the literal's source when plain."""

    segments: list
    literal: str | None = None


@dataclass
class Pair:
    """An accepted translation with where it came from."""

    context: str | None
    msgid: str
    msgstr: str
    path: str
    line: int


@dataclass
class Result:
    """The converted text of one file, its pairs and what was refused."""

    text: str
    pairs: list[Pair] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def build_message(ja: Text, en: Text, always_format: bool) -> tuple[str, str, dict[str, str]]:
    """Return (msgid, msgstr, {name: expression}) with named placeholders shared by both."""
    names = _names([s for s in ja.segments if isinstance(s, Slot)])
    ja_specs = {_key(s.expr): s.spec for s in ja.segments if isinstance(s, Slot)}
    for slot in (s for s in en.segments if isinstance(s, Slot)):
        if _key(slot.expr) not in names:
            raise Refused(f"the English uses a value the Japanese does not: {slot.expr}")
        if ja_specs[_key(slot.expr)] != slot.spec:
            raise Refused(f"the two texts format {slot.expr} differently")
    escape = always_format or bool(names)
    values = {name: _expr_of(ja, key) for key, name in names.items()}
    return _render(ja.segments, names, escape), _render(en.segments, names, escape), values


def _key(expr: str) -> str:
    """Compare expressions without their spacing."""
    return re.sub(r"\s+", "", expr)


def _expr_of(text: Text, key: str) -> str:
    """Return the expression source of the slot with this key."""
    return next(
        s.expr.strip() for s in text.segments if isinstance(s, Slot) and _key(s.expr) == key
    )


def _names(slots: list[Slot]) -> dict[str, str]:
    """Name each distinct expression after what it is (total, count, ...), unique per message."""
    names: dict[str, str] = {}
    for slot in slots:
        if _key(slot.expr) in names:
            continue
        base = name = _base_name(slot.expr)
        number = 2
        while name in names.values():
            name, number = f"{base}{number}", number + 1
        names[_key(slot.expr)] = name
    return names


def _base_name(expr: str) -> str:
    """Return a placeholder name for an expression: its last name, or count for a length."""
    m = re.fullmatch(r"\s*(?:len\((.+)\)|([A-Za-z_][\w.]*)((?:\s*\|\s*\w+)*))\s*", expr, re.S)
    if not m:
        return "value"
    if m[1] or re.search(r"\|\s*(length|count)$", m[3] or ""):
        return "count"
    name = m[2].rstrip(".").split(".")[-1]
    return f"{name}_value" if name in RESERVED or keyword.iskeyword(name) else name


def _render(segments: list, names: dict[str, str], escape: bool) -> str:
    """Join the parts, a slot as %(name)spec, a literal % as %% when the text is formatted."""
    out = []
    for part in segments:
        if isinstance(part, Slot):
            out.append(f"%({names[_key(part.expr)]}){part.spec}")
        else:
            out.append(part.replace("%", "%%") if escape else part)
    return "".join(out)


def printf_segments(body: str, args: list[str]) -> list:
    """Split a %-format string into literal parts and slots for the given argument sources."""
    segments: list = []
    pos = used = 0
    for m in PRINTF.finditer(body):
        segments.append(body[pos : m.start()])
        pos = m.end()
        if m[3] == "%":
            segments.append("%")
        elif m[1] is not None:
            raise Refused("named %(...) placeholders: write the call by hand")
        elif used >= len(args):
            raise Refused("more placeholders than values")
        else:
            segments.append(Slot(args[used], m[2] + m[3]))
            used += 1
    if used != len(args):
        raise Refused("more values than placeholders")
    return [s for s in [*segments, body[pos:]] if s != ""]


def format_spec(spec: str) -> str:
    """Turn a str.format spec into a printf one ("" -> s, ".1f" -> .1f); refuse the rest."""
    m = re.fullmatch(r"(?:(\.\d+)?([df])|(s?))", spec)
    if not m:
        raise Refused(f"format spec {spec!r}")
    return (m[1] or "") + (m[2] or "s")


def quote(text: str, quote: str = '"') -> str:
    """Return a string literal for text."""
    body = text.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("\n", "\\n")
    return quote + body + quote


def accept(known: Known, context: str | None, msgid: str, msgstr: str) -> None:
    """Remember a pair; refuse a Japanese text already translated differently."""
    old = known.get((context, msgid))
    if old and old != msgstr:
        raise Refused(
            f"conflict: 「{msgid}」 is “{old}” in the catalogue, here “{msgstr}” "
            '(make the English the same, or add context="..." to one of the t() calls)'
        )
    known[(context, msgid)] = msgstr


def apply_edits(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Replace spans (start, end, new) from the end backwards."""
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def decode(literal: str) -> str:
    """Return the value of a string literal."""
    try:
        return ast.literal_eval(literal)
    except (ValueError, SyntaxError) as exc:
        raise Refused(f"cannot read the literal {literal[:40]}") from exc
