"""Python modules: rewrite calls of `translate` (imported from search_app.i18n) with ast."""

from __future__ import annotations

import ast
import re
import string

from search_app.i18n_convert.messages import (
    Known,
    Pair,
    Refused,
    Result,
    Slot,
    Text,
    accept,
    apply_edits,
    build_message,
    format_spec,
    printf_segments,
    quote,
)


class _Finder(ast.NodeVisitor):
    """Collect calls of the alias (and whether they run at import time) and other uses."""

    def __init__(self, alias: str) -> None:
        self.alias, self.depth = alias, 0
        self.calls: list[tuple[ast.Call, bool]] = []
        self.loose: list[ast.Name] = []

    def _function(self, node) -> None:
        for child in [*getattr(node, "decorator_list", []), node.args]:
            self.visit(child)
        self.depth += 1
        for child in node.body if isinstance(node.body, list) else [node.body]:
            self.visit(child)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == self.alias:
            self.calls.append((node, self.depth == 0))
            return
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == self.alias:
            self.loose.append(node)


def convert_python(src: str, path: str, known: Known) -> Result:
    """Convert the t() calls of a Python module that imports `translate` from search_app.i18n."""
    result = Result(src)
    try:
        tree = ast.parse(src)
    except SyntaxError as exc:
        result.problems.append(f"{path}:{exc.lineno}: not valid Python, nothing converted")
        return result
    found = _translate_import(tree)
    if found is None:
        return result
    importer, alias = found
    finder = _Finder(alias)
    finder.visit(tree)
    starts = _line_starts(src)
    plain = "gettext" if _binds_underscore(tree) else "_"
    edits, used = [], set()
    for call, lazy in finder.calls:
        try:
            edit, name = _python_call(src, starts, call, lazy, plain, path, known, result)
        except Refused as exc:
            result.problems.append(f"{path}:{call.lineno}: {exc}")
            continue
        edits.append(edit)
        used.add(name)
    result.problems += [f"{path}:{n.lineno}: {alias} used without a call" for n in finder.loose]
    keep_alias = len(edits) < len(finder.calls) or bool(finder.loose)
    edits += _import_edits(src, starts, tree, importer, alias, used, keep_alias)
    result.text = apply_edits(src, edits)
    return result


def _translate_import(tree: ast.Module) -> tuple[ast.ImportFrom, str] | None:
    """Return the `from search_app.i18n import translate [as t]` statement and the alias."""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "search_app.i18n":
            for name in node.names:
                if name.name == "translate":
                    return node, name.asname or name.name
    return None


def _binds_underscore(tree: ast.Module) -> bool:
    """Tell whether the module uses `_` as a variable (then gettext keeps its name)."""
    for node in ast.walk(tree):
        stored = isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store)
        argument = isinstance(node, ast.arg) and node.arg == "_"
        imported = isinstance(node, ast.alias) and (node.asname or node.name) == "_"
        if stored or argument or (imported and node.name != "gettext"):
            return True
    return False


def _line_starts(src: str) -> list[int]:
    """Return the character offset where each line starts."""
    starts, total = [], 0
    for line in src.splitlines(keepends=True):
        starts.append(total)
        total += len(line)
    return [*starts, total]


def _offset(src: str, starts: list[int], line: int, col: int) -> int:
    """Turn an ast (line, UTF-8 byte column) into a character offset."""
    text = src[starts[line - 1] : starts[line]]
    return starts[line - 1] + len(text.encode()[:col].decode())


def _span(src: str, starts: list[int], node: ast.AST) -> tuple[int, int]:
    """Return a node's character span."""
    start = _offset(src, starts, node.lineno, node.col_offset)
    return start, _offset(src, starts, node.end_lineno, node.end_col_offset)


def _python_call(src, starts, call, lazy, plain, path, known, result):
    """Return the edit for one t() call and the gettext name it uses."""
    context = _python_context(call)
    if len(call.args) != 2 or any(isinstance(a, ast.Starred) for a in call.args):
        raise Refused("t() needs exactly two texts")
    ja, en = (_python_text(src, a) for a in call.args)
    msgid, msgstr, values = build_message(ja, en, always_format=False)
    accept(known, context, msgid, msgstr)
    result.pairs.append(Pair(context, msgid, msgstr, path, call.lineno))
    name = ("lazy_" if lazy else "") + ("pgettext" if context else "gettext")
    name = plain if name == "gettext" else name
    start, end = _span(src, starts, call)
    ja_start = _span(src, starts, call.args[0])[0]
    last = max([*call.args, *(k.value for k in call.keywords)], key=lambda n: _span(src, starts, n))
    literal = ja.literal if ja.literal and not values else quote(msgid)
    head = src[_span(src, starts, call.func)[1] : ja_start]
    ctx = f"{quote(context)}, " if context else ""
    kwargs = "".join(f", {key}={expr}" for key, expr in values.items())
    # Without the magic trailing comma ruff format joins the call when it fits on one line.
    tail = re.sub(r"^,", "", src[_span(src, starts, last)[1] : end])
    return (start, end, f"{name}{head}{ctx}{literal}{kwargs}{tail}"), name


def _python_context(call: ast.Call) -> str | None:
    """Return the literal context="..." keyword, refusing any other keyword."""
    context = None
    for kw in call.keywords:
        is_str = isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)
        if kw.arg != "context" or not is_str:
            raise Refused(f"unexpected keyword {kw.arg}=")
        context = kw.value.value
    return context


def _python_text(src: str, node: ast.expr) -> Text:
    """Read a literal, f-string, "..." % value or "...".format(...)."""
    if _is_str(node):
        return Text([node.value], ast.get_source_segment(src, node))
    if isinstance(node, ast.JoinedStr):
        return Text(_fstring(node))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_str(node.left):
        values = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
        return Text(printf_segments(node.left.value, [ast.unparse(v) for v in values]))
    func = getattr(node, "func", None)
    if isinstance(func, ast.Attribute) and func.attr == "format" and _is_str(func.value):
        return Text(_str_format(node))
    raise Refused(f"not a literal text: {ast.unparse(node)[:60]}")


def _is_str(node: ast.AST) -> bool:
    """Tell whether a node is a string constant."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _fstring(node: ast.JoinedStr) -> list:
    """Split an f-string into literal parts and slots."""
    segments: list = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            segments.append(value.value)
            continue
        if value.conversion not in (-1, ord("s")):
            raise Refused("an f-string value with !r or !a")
        spec = value.format_spec
        if spec is not None and not all(isinstance(v, ast.Constant) for v in spec.values):
            raise Refused("a nested f-string format spec")
        spec_text = "".join(v.value for v in spec.values) if spec else ""
        segments.append(Slot(ast.unparse(value.value), format_spec(spec_text)))
    return segments


def _str_format(node: ast.Call) -> list:
    """Split "...".format(...) into literal parts and slots."""
    if any(k.arg is None for k in node.keywords) or any(
        isinstance(a, ast.Starred) for a in node.args
    ):
        raise Refused("format() with * or ** arguments")
    named = {k.arg: ast.unparse(k.value) for k in node.keywords}
    positional = [ast.unparse(a) for a in node.args]
    segments: list = []
    auto = 0
    for literal, name, spec, conversion in string.Formatter().parse(node.func.value.value):
        segments.append(literal)
        if name is None:
            continue
        if conversion not in (None, "s"):
            raise Refused("a format() field with !r or !a")
        if name == "":
            name, auto = str(auto), auto + 1
        expr = positional[int(name)] if name.isdigit() and int(name) < len(positional) else None
        if (expr := expr or named.get(name)) is None:
            raise Refused(f"format() field {{{name}}} has no value")
        segments.append(Slot(expr, format_spec(spec or "")))
    return [s for s in segments if s != ""]


def _import_edits(src, starts, tree, importer, alias, used, keep_alias) -> list:
    """Add the flask_babel import and drop `translate as t` when nothing uses it any more."""
    have = {
        (n.name, n.asname)
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "flask_babel"
        for n in node.names
    }
    wanted = [("gettext", "_") if n == "_" else (n, None) for n in sorted(used)]
    names = ", ".join(f"{n} as {a}" if a else n for n, a in wanted if (n, a) not in have)
    start, end = _span(src, starts, importer)
    edits = [(start, start, f"from flask_babel import {names}\n")] if names else []
    if not keep_alias:
        rest = [n for n in importer.names if (n.asname or n.name) != alias]
        kept = ", ".join(n.name + (f" as {n.asname}" if n.asname else "") for n in rest)
        line = f"from search_app.i18n import {kept}" if rest else ""
        edits.append((start, end + (0 if rest else 1), line))
    return edits
