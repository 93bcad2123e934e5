# Two commands do everything on a fresh machine: `make run` and `make test`.
# CI runs `.ci/run`, which calls `make test` unchanged.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8501

.PHONY: run test test-fast lint install install-dev browser demo clean

# The stamp files change when pyproject.toml does, so a changed dependency reinstalls.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,scale]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/sightline demo

run: demo
	$(BIN)/streamlit run app/ui/streamlit_app.py --server.address $(HOST) --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false --server.maxUploadSize 25

# System packages the tests need, from Debian: Chromium + ChromeDriver for the end-to-end browser
# tests, the PostgreSQL server binaries for the answer-trail PostgreSQL store tests, and poppler's
# pdftoppm to check the morning report's PDF page by page.
# Installed only when missing (needs root or sudo).
SYSTEM_PACKAGES := $(if $(shell command -v chromium),,chromium chromium-driver) \
	$(if $(wildcard /usr/lib/postgresql/*/bin/postgres),,postgresql) \
	$(if $(shell command -v pdftoppm),,poppler-utils)

browser:
	@if [ -n "$(strip $(SYSTEM_PACKAGES))" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		echo "installing $(strip $(SYSTEM_PACKAGES))"; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

# Linters first, so the test runner's summary is the last thing CI prints.
test: install-dev browser
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest

# The suite without the slow markers, for quick local iterations.
test-fast: install-dev
	$(BIN)/python -m pytest -m "not slow"

lint: install-dev
	$(BIN)/ruff format --check --quiet .
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
