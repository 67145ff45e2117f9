# Two entry points for a newcomer: `make run` and `make test`. Everything else is set up from them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres test-tools install migrate demo bench

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python -m tracker migrate

demo: migrate
	$(BIN)/python -m tracker load-demo

run: demo
	$(BIN)/python -m tracker serve --host $(HOST) --port $(PORT)

# The whole suite on SQLite, then on PostgreSQL when one is reachable (required when REQUIRE_POSTGRES=1).
test: install test-tools
	$(BIN)/python -m pytest --db=sqlite -q
	@if $(BIN)/python -m tests.postgres_reachable; then \
		$(BIN)/python -m pytest --db=postgres -q; \
	elif [ "$$REQUIRE_POSTGRES" = "1" ]; then \
		echo "PostgreSQL injoignable ($${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}) alors que REQUIRE_POSTGRES=1 : échec."; exit 1; \
	else \
		echo "*** PostgreSQL injoignable ($${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}) : la suite n'a tourné que sur SQLite. ***"; \
	fi

# The Nu HTML Checker for the browser tests: vnu.jar (32 MB, not vendored) fetched once with npm into ~/.cache,
# pinned and checked by SHA-256 (tests/vnu.py). axe-core is vendored in tests/vendor/.
test-tools: install
	$(BIN)/python -m tests.vnu >/dev/null

# Network-scale benchmark (issue 15): needs wrk (apt-get install -y wrk). Options: make bench ARGS="--help".
bench: install
	$(BIN)/python -m tracker.bench $(ARGS)
