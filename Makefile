# Two commands: `make run` (set up, run the default scenario) and `make test` (set up, run the tests).
# `make app` starts the planners' web app on http://127.0.0.1:8765 (after the same set-up).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-slow setup clean app

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,cluster,app]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(PY) run.py run scenarios/milan_baseline.yaml

app: $(STAMP)
	$(PY) run.py app

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

clean:
	rm -rf $(VENV) results/*/ .pytest_cache
