"""Keep what a user typed to locate a mother out of the logs."""

from __future__ import annotations

import logging
import re

# Query strings can hold an address or a position typed to locate a mother (the start page
# is the search page, and redirects carry searches too): no request log line keeps any.
_SEARCH_QUERY = re.compile(r"((?:GET|POST|HEAD|PUT|DELETE|PATCH|OPTIONS) [^\s?]*)\?\S*")


class RedactSearchQueries(logging.Filter):
    """Replace the query string of every request line in log records with [redacted]."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message and arguments; always keep the record."""
        if isinstance(record.msg, str):
            record.msg = _SEARCH_QUERY.sub(r"\1?[redacted]", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SEARCH_QUERY.sub(r"\1?[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True


def install() -> None:
    """Attach the filter to the loggers that print request lines."""
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSearchQueries) for f in logger.filters):
            logger.addFilter(RedactSearchQueries())
