"""gunicorn settings read from the project folder (`gunicorn 'search_app:create_app()'`)."""

from search_app.search import warm_up

# Above MAIL_SEND_REQUEST_SECONDS plus one SMTP timeout (a campaign sent from the admin page).
timeout = 60


def post_worker_init(worker) -> None:
    """Load search data in each worker before it accepts requests (no slow first search)."""
    warm_up(worker.wsgi)
