# make course [PROFILE=smoke|cpu|full]   run every notebook, print the results table
# make test                              the whole test suite (what CI runs)
# make data                              copy/verify/decode every dataset once (needs the mirror or internet)
# make lint                              ruff check + ruff format --check (package, tests, notebooks)
# make lab                               Jupyter Lab in the course environment
# make site                              the course website from the committed notebooks, into _build/site/
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROFILE ?=

.PHONY: course test lint data lab site install clean

# PIP_INSTALL: what installs the pins; .ci/run passes uv's pip interface, which resolves the same
# versions (and needs no newer pip: PIP_UPGRADE=no).
PIP_INSTALL ?= $(PY) -m pip install --quiet
PIP_UPGRADE ?= yes

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(if $(filter yes,$(PIP_UPGRADE)),$(PY) -m pip install --quiet --upgrade pip)
	$(PIP_INSTALL) -r requirements.txt
	$(PIP_INSTALL) --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

course: $(STAMP)
	$(PY) -m course_utils.course $(if $(PROFILE),--profile $(PROFILE))

# Two workers (the machine has two cores); loadscope keeps each test module and each notebook's
# cells on one worker, which nbval needs. The datasets are prepared first, so workers only read.
# One thread per process: two notebooks at torch's default of two threads each oversubscribe the
# two cores (06 and 07 at smoke side by side: 162.6 s wall, against 45.8 s with one thread each).
test: $(STAMP)
	$(PY) -m course_utils.prepare
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 COURSE_PROFILE=smoke $(PY) -m pytest tests notebooks -n 2 --dist loadscope --nbval-lax \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --durations=30

data: $(STAMP)
	$(PY) -m course_utils.prepare

lint: $(STAMP)
	$(VENV)/bin/ruff check course_utils tests tools notebooks
	$(VENV)/bin/ruff format --check course_utils tests tools notebooks

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

# Renders the committed notebooks with their outputs (nothing is executed); see tools/build_site.py.
site: $(STAMP)
	$(PY) tools/build_site.py

clean:
	rm -rf runs .pytest_cache
