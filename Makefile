# `make demo` and `make test` work on a fresh clone: they create .venv, install the
# pinned dependencies (requirements.txt) and the package, then run.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install browser test demo bench clean docs docs-serve

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

# The page tests (tests/pages) drive a real headless Chromium: install Debian's chromium
# and chromium-driver when they are missing, where apt-get is available and we are root.
# Elsewhere say why not; those tests then skip (and fail under CI=true).
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
	  true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "make browser: installing chromium and chromium-driver (apt-get)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
	    || echo "make browser: apt-get could not install chromium; the browser tests will be skipped"; \
	else \
	  echo "make browser: skipped: chromium or chromedriver missing and installing needs root and apt-get;" \
	       "the browser tests will be skipped (they fail under CI=true)"; \
	fi

test: install browser
	$(PY) -m pytest -q

# ruff: pyflakes, pycodestyle, bugbear and import-order rules, and the formatter check
.PHONY: lint
lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

# the suite without the tests marked slow (training, experiments, Ray, real videos end to end)
.PHONY: test-fast
test-fast: install
	$(PY) -m pytest -q -m "not slow"

demo: install
	$(VENV)/bin/acsumgan demo --out demo

# the documentation site (mkdocs.yml, docs/): --strict fails on a broken link or a missing page
docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# a local preview at http://127.0.0.1:8000 that rebuilds on every change
docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

bench: install
	$(PY) benchmarks/train_speed.py --out benchmarks/results/train_speed.json

clean:
	rm -rf $(VENV) demo .pytest_cache build/site
