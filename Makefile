# `make demo` and `make test` work on a fresh clone: they create .venv, install the
# pinned dependencies (requirements.txt) and the package, then run.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test demo bench clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

test: install
	$(PY) -m pytest -q

# the suite without the tests marked slow (training, experiments, Ray, real videos end to end)
.PHONY: test-fast
test-fast: install
	$(PY) -m pytest -q -m "not slow"

demo: install
	$(VENV)/bin/acsumgan demo --out demo

bench: install
	$(PY) benchmarks/train_speed.py --out benchmarks/results/train_speed.json

clean:
	rm -rf $(VENV) demo .pytest_cache
