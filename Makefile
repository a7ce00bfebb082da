# The two commands of the README: `make demo` and `make test`. Both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV := $(BIN)/uv
# uv is itself pinned in uv.lock (a dev dependency): the bootstrap installs that version.
UV_VERSION = $(shell sed -n '/^name = "uv"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' uv.lock)

.PHONY: demo test lint typecheck install lock upgrade serve worker migrate clean bench-mail

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv$(if $(UV_VERSION),==$(UV_VERSION))'

# Exactly the versions in uv.lock, each checked against its hash; refuses a uv.lock that
# no longer matches pyproject.toml (then run `make lock`). Compiled to bytecode here, once:
# where PYTHONDONTWRITEBYTECODE is set (CI sets it) Python still reads .pyc files but never
# writes them, and every process would compile its imports again (4 s of CPU a process).
# The Makefile is a prerequisite so that a change of these flags reaches existing checkouts.
$(STAMP): pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --locked --extra dev --compile-bytecode
	touch $(STAMP)

install: $(STAMP)

# uv.lock exported in the standard lock format (PEP 751) for tools that read no uv.lock:
# the same versions and hashes. Installs here use uv.lock; tests/test_lock.py fails when
# the two disagree.
PYLOCK = $(UV) export --locked --format pylock.toml --extra dev --no-emit-project --no-header --quiet --offline

# After changing dependencies in pyproject.toml: resolve them into uv.lock (no upgrades).
lock: | $(UV)
	$(UV) lock
	$(PYLOCK) -o pylock.toml

# Newest versions pyproject.toml allows, then the whole suite on them; commit uv.lock and
# pylock.toml if green.
upgrade: | $(UV)
	$(UV) lock --upgrade
	$(PYLOCK) -o pylock.toml
	$(MAKE) test

migrate: install
	$(BIN)/hondana migrate

# Migrate and load the demo library, then run the API and a Celery worker (with beat) on
# the embedded broker (`hondana up`); Ctrl-C stops both, and if either dies the other is
# stopped and make fails, with the dead one's error above.
demo: install
	$(BIN)/hondana demo
	@echo "Web OPAC: http://127.0.0.1:8000/   GraphiQL: http://127.0.0.1:8000/graphql"
	@echo "Mail: var/maildir/new/"
	$(BIN)/hondana up

serve: install
	$(BIN)/hondana serve

worker: install
	$(BIN)/hondana worker --beat

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

# The suite in parallel (pytest-xdist): each worker has its own databases, queues and
# ports; tests sharing an expensive fixture stay on one worker (tests/conftest.py). Much
# of the suite waits on subprocesses, SMTP, Celery and the browser, so three workers keep
# two cores busy; `make test TEST_WORKERS=0` runs it serially.
TEST_WORKERS ?= 3

# The project's own code compiled first, for the same reason as the install: the suite
# starts a few hundred Python processes (servers, workers, CLI runs, the fuzz's drawers,
# which import test modules). All of it but the venv, so no list here to keep in step.
test: lint typecheck
	$(BIN)/python -m compileall -q -j 0 -x '^\./(\.venv|var)/' .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

bench-mail: install
	$(BIN)/python bench/mail_dispatch.py -n 10000

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
