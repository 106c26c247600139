"""gunicorn settings read from the project folder (`gunicorn 'search_app:create_app()'`)."""

from search_app.search import warm_up


def post_worker_init(worker) -> None:
    """Load search data in each worker before it accepts requests (no slow first search)."""
    warm_up(worker.wsgi)
