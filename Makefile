# The two commands of the README: `make demo` and `make test`. Both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck install serve worker migrate clean bench-mail

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/hondana migrate

# Migrate and load the demo library, then run the API and a Celery worker (with beat)
# on the embedded broker; Ctrl-C stops both.
demo: install
	$(BIN)/hondana demo
	@echo "Web OPAC: http://127.0.0.1:8000/   GraphiQL: http://127.0.0.1:8000/graphql"
	@trap 'kill 0' INT TERM EXIT; \
	  $(BIN)/hondana worker --beat & \
	  $(BIN)/hondana serve

serve: install
	$(BIN)/hondana serve

worker: install
	$(BIN)/hondana worker --beat

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

test: lint typecheck
	$(BIN)/pytest

bench-mail: install
	$(BIN)/python bench/mail_dispatch.py -n 10000

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
