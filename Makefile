# The study's commands. Each target creates or refreshes .venv/ from pyproject.toml first.
#   make test               the tests, including nbval on the reference notebooks (ci profile)
#   make test-matrix        the tests under each CPU kernel set, thread count and precision branch
#   make study              data, training, every notebook, the book (PROFILE=cpu by default)
#   make study PROFILE=full the original's scale, for a GPU
#   make beyond             the study plus the beyond-Yeh chapter, too long for it
#   make faces              the study plus the faces chapter (Yeh et al.'s Table 1), too long for it
#   make budget             the study plus the solver-budget chapter (1,500 iterations), too long for it
#   make after              the study plus the chapter on the methods after Yeh (DGP, ILO, an encoder)
#   make bench              training step against a float32 reference
#   make references         refresh the nbval reference notebooks after an intended change
#   make book               only rebuild the HTML from the committed results (no training)
#   make lock               re-pin requirements.lock after a change to pyproject.toml's dependencies
PROFILE ?= cpu
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements.lock

.PHONY: test test-matrix study beyond faces budget after bench references book clean-book lock

# The exact versions of requirements.lock (every package, pinned), then the project itself.
# pip prints what it downloads and installs: the first run fetches about 6 GB (PyTorch).
# requirements.lock was resolved on Python 3.11.7; some of its pins need 3.11.5 or newer.
$(VENV)/.installed: pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -c 'import sys; v = sys.version.split()[0]; sys.exit(None \
	  if sys.version_info >= (3, 11, 5) else f"make: {sys.executable} is Python {v}; " \
	  "requirements.lock needs 3.11.5 or newer: run make PYTHON=<path of such a python3>")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install --requirement $(LOCK)
	$(PY) -m pip install --no-deps --editable .
	touch $@

# pip-compile resolves pyproject.toml's dependencies with the study and test extras for this
# platform (Linux x86_64, Python 3.11); tests/test_dependencies.py checks that the two agree.
lock: $(VENV)/.installed
	$(PY) -m pip install pip-tools
	$(VENV)/bin/pip-compile --quiet --extra study --extra test --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links --output-file $(LOCK) pyproject.toml

test: $(VENV)/.installed
	$(PY) -m pytest

# Each variant changes one thing a user's machine may differ in: the CPU kernels torch dispatches
# to, the thread count, and the branch precision="auto" takes (as if bf16 were native or not).
# Every variant must pass; logs go to _build/test-matrix/, a summary line per variant to stdout.
# The avx512 variant runs only on a CPU that has AVX-512 (elsewhere torch dies of SIGILL).
MATRIX := ATEN_CPU_CAPABILITY=default ATEN_CPU_CAPABILITY=avx2 ATEN_CPU_CAPABILITY=avx512 \
          OMP_NUM_THREADS=1 OMP_NUM_THREADS=2 INPAINT_NATIVE_BF16=0 INPAINT_NATIVE_BF16=1

test-matrix: $(VENV)/.installed
	@mkdir -p _build/test-matrix; failed=0; \
	for variant in $(MATRIX); do \
	  if [ "$$variant" = ATEN_CPU_CAPABILITY=avx512 ] && ! grep -qw avx512f /proc/cpuinfo; then \
	    echo "$$variant: skipped (this CPU has no AVX-512: torch stops on an illegal instruction)"; \
	    continue; \
	  fi; \
	  start=$$(date +%s); \
	  env $$variant $(PY) -m pytest -q -p no:cacheprovider > _build/test-matrix/$$variant.log 2>&1 \
	    || failed=1; \
	  echo "$$variant: $$(tail -n 1 _build/test-matrix/$$variant.log) ($$(( $$(date +%s) - start )) s)"; \
	done; \
	exit $$failed

study: $(VENV)/.installed
	$(PY) -m inpaint study --profile $(PROFILE)

beyond: $(VENV)/.installed
	$(PY) -m inpaint study --profile $(PROFILE) --long 07_beyond_yeh

faces: $(VENV)/.installed
	$(PY) -m inpaint study --profile $(PROFILE) --long 08_faces

budget: $(VENV)/.installed
	$(PY) -m inpaint study --profile $(PROFILE) --long 09_budget

after: $(VENV)/.installed
	$(PY) -m inpaint study --profile $(PROFILE) --long 11_after_yeh

bench: $(VENV)/.installed
	$(PY) -m inpaint bench --profile $(PROFILE)

references: $(VENV)/.installed
	$(PY) -m inpaint references

book: $(VENV)/.installed
	$(VENV)/bin/jupyter-book build . --warningiserror --keep-going
	@echo "open the book: $(CURDIR)/_build/html/index.html"

clean-book:
	rm -rf _build
