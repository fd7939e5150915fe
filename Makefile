# cnnbook tasks. `make book` builds the HTML book; `make test` runs every check.
# Both set up .venv/ first if it is missing or requirements.txt changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SETUP := $(VENV)/.setup-done
NOTEBOOKS := $(shell find chapters -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
# Keep TensorFlow's C++ start-up log quiet in every process we start.
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: setup book test portability lab execute bench clean

setup: $(SETUP)

$(SETUP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Sphinx's cached environment goes stale when the toc changes (numbering crashes): drop it then.
define fresh-toc
	if [ -d _build/.doctrees ] && [ _toc.yml -nt _build/.doctrees ]; then rm -rf _build/.doctrees _build/html; fi
endef

book: $(SETUP)
	$(fresh-toc)
	$(BIN)/jupyter-book build . --keep-going

# Every stage of `make test` is timed (tests/stage); the times are listed at the end.
STAGE := STAGE_LOG=_build/stage-times.txt tests/stage
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg

test: $(SETUP)
	@mkdir -p _build && rm -f _build/stage-times.txt
	$(STAGE) "unit tests" $(BIN)/python -m pytest tests -m "not browser" --durations=10
	$(STAGE) "notebooks (nbval)" $(BIN)/python -m pytest $(NBVAL) chapters
	$(STAGE) "notebooks under other CPU kernels (portability)" $(BIN)/python tests/portability.py $(NBVAL) chapters
	$(fresh-toc)
	$(STAGE) "strict book build" $(BIN)/jupyter-book build . -W -n --keep-going
	$(STAGE) "browser tests (book pages, JupyterLab)" $(BIN)/python -m pytest tests/browser -m browser -v
	@echo "== make test passed; time per stage:" && cat _build/stage-times.txt

# The notebooks again, under kernel paths other than this machine's (what `make test` runs).
portability: $(SETUP)
	$(BIN)/python tests/portability.py $(NBVAL) $(or $(NB),chapters)

# JupyterLab on chapter 0's notebook, where the course starts (NB=... opens another), with .venv's kernel, which
# imports cnnbook; jupyterlab-myst renders the exercises, hidden solutions and math as the book
# does. jupyter_lab_config.py keeps Lab offline.
lab: $(SETUP)
	$(BIN)/jupyter lab --config=$(CURDIR)/jupyter_lab_config.py $(or $(NB),chapters/00-data/data.ipynb)

# Re-execute every notebook in place from a clean kernel (for authors), offline as in the tests.
execute: $(SETUP)
	PYTHONPATH=$(CURDIR)/tests/offline $(BIN)/jupyter nbconvert --to notebook --execute \
	    --inplace --ExecutePreprocessor.timeout=600 $(or $(NB),$(NOTEBOOKS))

bench: $(SETUP)
	$(BIN)/python bench/conv.py
	$(BIN)/python bench/numpy_cnn.py

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
