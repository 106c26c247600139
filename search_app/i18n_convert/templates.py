"""Jinja templates: find t("…", "…") calls inside {{ }} and {% %} and rewrite them."""

from __future__ import annotations

import re

from search_app.i18n_convert.messages import (
    Known,
    Pair,
    Refused,
    Result,
    Text,
    accept,
    apply_edits,
    build_message,
    decode,
    printf_segments,
    quote,
)

STR = r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
TOKEN = re.compile(STR + r"|([A-Za-z_]\w*)|(\s+)|(.)", re.S)
OPENING = re.compile(r"\{\{|\{%|\{#")


def convert_template(src: str, path: str, known: Known) -> Result:
    """Convert the t() calls of a Jinja template."""
    result, edits = Result(src), []
    for tokens in _regions(src):
        for i, tok in enumerate(tokens):
            if tok[1] != "t" or tok[0] != "name" or _neighbour(tokens, i, -1) == ".":
                continue
            line = src.count("\n", 0, tok[2]) + 1
            if _neighbour(tokens, i, 1) != "(":
                if _neighbour(tokens, i, 1) != "=":
                    result.problems.append(f"{path}:{line}: t used without a call")
                continue
            try:
                edits.append(_template_call(src, tokens, i, path, line, known, result))
            except Refused as exc:
                result.problems.append(f"{path}:{line}: {exc}")
    result.text = apply_edits(src, edits)
    return result


def _regions(src: str):
    """Yield the tokens (kind, text, start, end) of each {{ }} and {% %} block."""
    pos = 0
    while (m := OPENING.search(src, pos)) is not None:
        if m[0] == "{#":
            pos = src.find("#}", m.end()) + 2 if "#}" in src[m.end() :] else len(src)
            continue
        closing = "}}" if m[0] == "{{" else "%}"
        tokens, pos = _tokens(src, m.end(), closing)
        yield tokens


def _tokens(src: str, pos: int, closing: str) -> tuple[list, int]:
    """Tokenize from pos up to the closing delimiter (outside strings)."""
    tokens = []
    while pos < len(src) and not src.startswith(closing, pos):
        m = TOKEN.match(src, pos)
        kind = "str" if m[1] else "name" if m[2] else "space" if m[3] else "op"
        if kind != "space":
            tokens.append((kind, m[0], m.start(), m.end()))
        pos = m.end()
    return tokens, pos + len(closing)


def _neighbour(tokens: list, i: int, step: int) -> str | None:
    """Return the text of the token next to i (step -1 or 1)."""
    j = i + step
    return tokens[j][1] if 0 <= j < len(tokens) else None


def _template_call(src, tokens, i, path, line, known, result) -> tuple[int, int, str]:
    """Return the edit for the t( call at token i."""
    args, end = _call_args(src, tokens, i + 1)
    positional, context = _split_keywords(args)
    if len(positional) != 2:
        raise Refused("t() needs exactly two texts")
    ja, en = (_jinja_text(a) for a in positional)
    msgid, msgstr, values = build_message(ja, en, always_format=True)
    context_value = decode(context) if context else None
    accept(known, context_value, msgid, msgstr)
    result.pairs.append(Pair(context_value, msgid, msgstr, path, line))
    mark = positional[0].strip()[0] if ja.literal else '"'
    literal = ja.literal if ja.literal and "%" not in msgid else quote(msgid, mark)
    head = f"pgettext({context}, " if context else "_("
    kwargs = "".join(f", {name}={expr}" for name, expr in values.items())
    return tokens[i][2], end, f"{head}{literal}{kwargs})"


def _call_args(src: str, tokens: list, i: int) -> tuple[list[str], int]:
    """Return the argument sources of the call whose "(" is token i, and where it ends."""
    depth, start, args = 0, tokens[i][3], []
    for tok in tokens[i:]:
        depth += tok[1] in "([{" if tok[0] == "op" else 0
        depth -= tok[1] in ")]}" if tok[0] == "op" else 0
        if tok[0] == "op" and tok[1] == "," and depth == 1:
            args.append(src[start : tok[2]])
            start = tok[3]
        if depth == 0:
            args.append(src[start : tok[2]])
            return [a for a in args if a.strip()], tok[3]
    raise Refused("unbalanced parentheses")


def _split_keywords(args: list[str]) -> tuple[list[str], str | None]:
    """Separate the positional texts from an optional context="..." keyword."""
    positional, context = [], None
    for arg in args:
        m = re.fullmatch(r"\s*(\w+)\s*=(?!=)\s*(.*?)\s*", arg, re.S)
        if not m:
            positional.append(arg)
        elif m[1] == "context" and re.fullmatch(STR, m[2], re.S):
            context = m[2]
        else:
            raise Refused(f"unexpected keyword {m[1]}=")
    return positional, context


def _jinja_text(arg: str) -> Text:
    """Read a literal, literal|format(...) or literal % value."""
    s = arg.strip()
    if re.fullmatch(STR, s, re.S):
        return Text([decode(s)], s)
    m = re.fullmatch(STR + r"\s*\|\s*format\s*\((.*)\)", s, re.S)
    if m:
        return Text(printf_segments(decode(m[1]), _split_values(m[2])), None)
    m = re.fullmatch(STR + r"\s*%\s*(.+)", s, re.S)
    if m:
        inner = re.fullmatch(r"\((.*)\)", m[2].strip(), re.S)
        values = _split_values(inner[1]) if inner else [m[2].strip()]
        return Text(printf_segments(decode(m[1]), values), None)
    raise Refused(f"not a literal text: {s[:60]}")


def _split_values(text: str) -> list[str]:
    """Split a format argument list at its top-level commas."""
    tokens, _end = _tokens(text + ")", 0, ")")
    fake = [("op", "(", 0, 0), *tokens, ("op", ")", len(text), len(text))]
    values, end = _call_args(text, fake, 0)
    if end != len(text) or any(re.match(r"\s*\w+\s*=(?!=)", v) for v in values):
        raise Refused("format() with keywords or unbalanced parentheses")
    return [v.strip() for v in values]
