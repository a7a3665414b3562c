# open12306 — `make run` starts the product on SQLite with demo data; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Swagger UI for /docs, from the npm package pinned in docs-ui/ (copied into the package).
SWAGGER_UI := src/open12306/swagger_ui
SWAGGER_UI_FILES := swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE NOTICE
export OPEN12306_HOST ?= 127.0.0.1
export OPEN12306_PORT ?= 8000
export OPEN12306_DATABASE_URL ?= sqlite:///var/open12306.db

.PHONY: run install install-dev browser test bench lint demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt requirements-face.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -r requirements-face.txt
	touch $@

$(SWAGGER_UI)/.installed: docs-ui/package.json docs-ui/package-lock.json
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq npm >/dev/null) \
	  || (echo "npm is needed once to install the API viewer served at /docs" && exit 1)
	cd docs-ui && npm ci --silent --ignore-scripts
	mkdir -p $(SWAGGER_UI)
	cd docs-ui/node_modules/swagger-ui-dist && cp $(SWAGGER_UI_FILES) $(CURDIR)/$(SWAGGER_UI)/
	touch $@

install: $(VENV)/.installed $(SWAGGER_UI)/.installed

install-dev: $(VENV)/.installed-dev $(SWAGGER_UI)/.installed

demo: install
	@mkdir -p var
	$(BIN)/open12306 db upgrade
	$(BIN)/open12306 demo load

run: demo
	$(BIN)/open12306 serve --host $(OPEN12306_HOST) --port $(OPEN12306_PORT)

# The page tests drive Debian's Chromium through playwright (never `playwright install`: it
# would download a browser at run time).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium is not installed: the browser tests will fail (OPEN12306_SKIP_BROWSER=1 skips them)"

# pytest-xdist: TEST_WORKERS processes (auto: one per core; 0: none), a test file per worker at a
# time, so a module's fixtures (demo databases, live servers) are built once.
TEST_WORKERS ?= auto
test: install-dev browser
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

bench: install-dev
	@command -v wrk >/dev/null 2>&1 || apt-get install -y -qq wrk >/dev/null 2>&1 \
	  || echo "wrk is not installed: the HTTP benchmark uses the built-in Python load generator"
	$(BIN)/open12306 bench all

lint: install-dev
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis docs-ui/node_modules $(SWAGGER_UI)
