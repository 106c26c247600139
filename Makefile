# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench bench-quick loadtest translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/pmh db upgrade
	$(BIN)/pmh seed-demo --clinics 600 --seed 1 --if-empty
	$(BIN)/pmh index sync --if-missing-rebuild
	$(BIN)/pmh run --host 127.0.0.1 --port 5000

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# After adding or changing _("日本語") texts: collect them, update the English catalogue (new
# entries come empty: fill in their msgstr), compile the .mo. Both .po and .mo are committed.
translations: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k lazy_pgettext:1c,2 \
		--add-location=file --sort-output --no-wrap --project=pmh-navi -o build/messages.pot .
	$(BIN)/pybabel -q update -i build/messages.pot -d search_app/translations -l en \
		--no-wrap --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel -q compile -d search_app/translations -l en

# Exits 1 when a speed target of README "Benchmarks" is missed or a result set differs.
bench: $(STAMP)
	$(BIN)/python -m tests.bench.search --sizes 10000,100000 --out instance/bench/results.json

# A few minutes at 10,000 facilities: run it on every change of index/.
bench-quick: $(STAMP)
	$(BIN)/python -m tests.bench.search --sizes 10000 --quick --out instance/bench/quick.json

# Nurses search while clinics save answers: locust headless against gunicorn (4 workers) on a
# fresh instance; exits 1 on any error or a p95 over budget (README "Load test"). Add
# ARGS="--database-url postgresql+psycopg://user@host/db" to run it on PostgreSQL.
LOAD_STAMP := $(VENV)/.installed-load
$(LOAD_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[load]'
	touch $(LOAD_STAMP)

loadtest: $(LOAD_STAMP)
	$(BIN)/python -m tests.load.run $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
