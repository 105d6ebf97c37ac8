# The study's commands. Each target creates or refreshes .venv/ from pyproject.toml first.
#   make test               the tests, including nbval on the reference notebooks (ci profile)
#   make study              data, training, every notebook, the book (PROFILE=cpu by default)
#   make study PROFILE=full the original's scale, for a GPU
#   make bench              training step against a float32 reference
#   make references         refresh the nbval reference notebooks after an intended change
#   make book               only rebuild the HTML from the committed results (no training)
PROFILE ?= cpu
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: test study bench references book clean-book

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

test: $(VENV)/.installed
	$(PY) -m pytest

study: $(VENV)/.installed
	$(PY) -m inpaint study --profile $(PROFILE)

bench: $(VENV)/.installed
	$(PY) -m inpaint bench --profile $(PROFILE)

references: $(VENV)/.installed
	$(PY) -m inpaint references

book: $(VENV)/.installed
	$(VENV)/bin/jupyter-book build . --warningiserror --keep-going
	@echo "open the book: $(CURDIR)/_build/html/index.html"

clean-book:
	rm -rf _build
