"""Read HTML forms the way a browser submits them (no third-party parser needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class HtmlForm:
    """One <form>: its attributes and the (name, value) pairs a browser would send."""

    attrs: dict[str, str]
    fields: list[tuple[str, str]] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        """Return the first value sent under `name`, or None."""
        return next((v for n, v in self.fields if n == name), None)

    def replace(self, name: str, value: str) -> None:
        """Send `value` as the only value of `name`."""
        self.fields = [(n, v) for n, v in self.fields if n != name] + [(name, value)]


class _FormParser(HTMLParser):
    """Collect every form with its successful controls."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag == "form":
            self._form = HtmlForm(attrs)
            self.forms.append(self._form)
        elif self._form is not None and attrs.get("name") and "disabled" not in attrs:
            self._control(tag, attrs)

    def _control(self, tag: str, attrs: dict[str, str]) -> None:
        """Record one input, or start reading a textarea or select."""
        name = attrs["name"]
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in ("radio", "checkbox"):
                if "checked" in attrs:
                    self._form.fields.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button", "reset", "file", "image"):
                self._form.fields.append((name, attrs.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = name, []
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self._form.fields.append((self._select, attrs.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None


def parse_forms(html: str) -> list[HtmlForm]:
    """Return every form in the page."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def find_form(html: str, **wanted: str) -> HtmlForm | None:
    """Return the first form whose attributes contain the wanted values (class: one token)."""
    for form in parse_forms(html):
        if all(_matches(form.attrs, key, value) for key, value in wanted.items()):
            return form
    return None


def _matches(attrs: dict[str, str], key: str, value: str) -> bool:
    """Compare one attribute; `class_` matches one class token."""
    if key == "class_":
        return value in attrs.get("class", "").split()
    return attrs.get(key, "").lower() == value.lower()
