"""A gunicorn worker loads the search data before its first request."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

from index import text
from index.geo import areas, gazetteer

ROOT = Path(__file__).resolve().parent.parent


def _gunicorn_config():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_worker_loads_the_dictionary_and_gazetteer_before_serving(app, town, reindex):
    reindex()
    text.dictionary.cache_clear()
    gazetteer.station_index.cache_clear()
    _gunicorn_config().post_worker_init(SimpleNamespace(wsgi=app))
    assert text.dictionary.cache_info().currsize == 1
    assert gazetteer.station_index.cache_info().currsize == 1


def test_a_workers_first_search_page_finds_its_templates_and_town_points_ready(app, town, reindex):
    """The first user of a worker does not wait for templates to compile or towns to load."""
    reindex()
    areas._town_points.cache_clear()
    _gunicorn_config().post_worker_init(SimpleNamespace(wsgi=app))
    compiled, town_loads = len(app.jinja_env.cache), areas._town_points.cache_info().misses
    # 町田駅: its nearest municipalities are in Tokyo and Kanagawa, unlike the sample place.
    query = {"lat": "35.5420", "lng": "139.4460", "situation": "postpartum", "q": "こころ"}
    page = app.test_client().get("/", query_string=query)
    assert page.status_code == 200
    assert "件見つかりました" in page.get_data(as_text=True)
    assert len(app.jinja_env.cache) == compiled
    assert areas._town_points.cache_info().misses == town_loads


def test_warm_up_never_stops_a_worker_when_the_index_is_missing(make_app):
    app = make_app(INDEX_PATH="/nonexistent/pmh-index")
    _gunicorn_config().post_worker_init(SimpleNamespace(wsgi=app))  # logs, does not raise
