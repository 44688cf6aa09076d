# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# The factory, so that `flask db upgrade` and `flask keys init` work before keys exist.
export FLASK_APP := app

.PHONY: run test lint typecheck pytest first-hour update-catalogs lock bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps make the install re-run only when a lock file changes.
$(VENV)/.run-installed: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	rm -f $(VENV)/.dev-installed
	touch $@

$(VENV)/.dev-installed: requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(VENV)/.run-installed $@

run: $(VENV)/.run-installed
	MELDEPORTAL_ENV=$${MELDEPORTAL_ENV:-development} $(BIN)/flask db upgrade
	MELDEPORTAL_ENV=$${MELDEPORTAL_ENV:-development} $(BIN)/python -m app.devserver --host $(HOST) --port $(PORT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# One xdist worker per core, each with its own PostgreSQL; then the `serial` tests one at a time
# (pytest-xdist 3.8's --dist loadgroup groups nothing under pytest 9.2: pytest-xdist#1386).
# Coverage adds up over both runs; the second checks the floor.
pytest: $(VENV)/.dev-installed
	$(BIN)/pytest -n auto -m "not serial" --cov-fail-under=0 --cov-report=
	$(BIN)/pytest -m serial --cov-append --cov-report=term-missing:skip-covered

# The README's "first hour" on a throw-away instance: `make run` on a free port, the first admin,
# a report, login, coding, demo data (about a minute).
first-hour: $(VENV)/.dev-installed
	$(BIN)/python scripts/first_hour.py

test: lint typecheck pytest first-hour

# For maintainers: refresh translations and the lock files.
update-catalogs: $(VENV)/.dev-installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--omit-header -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --ignore-obsolete \
		--no-fuzzy-matching
	$(BIN)/pybabel compile -d app/translations

lock:
	uv pip compile pyproject.toml --python-version 3.11 --generate-hashes --no-header -o requirements.lock
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes --no-header -o requirements-dev.lock

bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .import_linter_cache .coverage build
