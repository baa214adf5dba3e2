# Two commands do all the set-up (README):
#   make lab    open the course in JupyterLab at notebooks/
#   make test   every test: lint, unit tests and nbval over every notebook with the newest
#               versions (make test-newest), then the unit tests with the lowest versions
#               pyproject.toml allows (make test-lowest, in .venv-lowest); offline data
# Both create a local virtual environment in .venv on first use and reuse it afterwards;
# it is rebuilt when pyproject.toml changes. CI (.ci/run) runs `make test`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test test-newest test-lowest lint execute student benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[test,browser]"
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

# Tests always use the offline MNIST subset (fast, repeatable, no network needed) and an
# empty model cache, so notebooks that train-or-load really train. The real-browser tests
# (tests/browser/, marker `browser`: JupyterLab in headless Chromium) run last and reuse the
# models nbval trained; without Chromium they skip, and in CI (.ci/run) they fail.
TEST_CACHE := $(CURDIR)/.test-cache
test: test-newest test-lowest

test-newest: $(STAMP)
	$(BIN)/ruff check vae_tutorial tests notebooks benchmarks
	rm -rf $(TEST_CACHE)
	VAE_TUTORIAL_OFFLINE=1 VAE_TUTORIAL_CACHE_DIR=$(TEST_CACHE) $(BIN)/python -m pytest $(PYTEST_ARGS)

# The other end of the ranges: the lowest allowed versions of every dependency, pinned in
# LOWEST (the tests check that they are pyproject's lower bounds). Unit tests only, without
# the real-browser tests (-m "not browser": they test the course in a browser, not the
# version ranges); a skipped test fails the run (a test that needs newer versions means a
# bound is wrong).
LOWEST := .ci/lowest-constraints.txt
LOWEST_VENV ?= .venv-lowest
LOWEST_STAMP := $(LOWEST_VENV)/.installed

$(LOWEST_STAMP): pyproject.toml $(LOWEST)
	rm -rf $(LOWEST_VENV)
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/python -m pip install --upgrade pip
	$(LOWEST_VENV)/bin/python -m pip install -c $(LOWEST) -e ".[test]"
	touch $(LOWEST_STAMP)

test-lowest: $(LOWEST_STAMP)
	rm -rf $(TEST_CACHE)
	VAE_TUTORIAL_OFFLINE=1 VAE_TUTORIAL_CACHE_DIR=$(TEST_CACHE) PYTHONPATH=.ci \
		$(LOWEST_VENV)/bin/python -m pytest tests -m "not browser" -p no_skips $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check vae_tutorial tests notebooks benchmarks

# Re-execute notebooks top to bottom in fresh kernels and store their outputs (maintainers).
execute: $(STAMP)
	VAE_TUTORIAL_OFFLINE=1 $(BIN)/python -m vae_tutorial.notebook_tools execute notebooks/*.ipynb

# Student copies (solutions stripped) in student/.
student: $(STAMP)
	$(BIN)/python -m vae_tutorial.notebook_tools student notebooks student

benchmark: $(STAMP)
	VAE_TUTORIAL_OFFLINE=1 $(BIN)/python benchmarks/notebooks.py --mode both

clean:
	rm -rf $(VENV) $(LOWEST_VENV) student .pytest_cache .ruff_cache .test-cache
