# Two commands do all the set-up (README):
#   make lab    open the course in JupyterLab at notebooks/
#   make site   build the course website into site/_build/html (offline, no execution)
#   make test   every test: lint, unit tests and nbval over every notebook with the newest
#               versions (make test-newest), then the unit tests with the lowest versions
#               pyproject.toml allows (make test-lowest, in .venv-lowest); offline data
# Both create a local virtual environment in .venv on first use and reuse it afterwards;
# it is rebuilt when pyproject.toml changes. CI (.ci/run) runs `make test`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test test-newest test-lowest lint execute student benchmark site prepare-room clean

# `make lab` installs the course alone: what a learner needs.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e .
	touch $(STAMP)

# The maintainers' and instructors' tools, added to the same environment by the targets
# that need them (tests, nbgrader, the website's Sphinx and MathJax, Playwright for the
# real-browser tests); reinstalled whenever the environment is. `make lab` stays without
# them, so learners do not see nbgrader's menus.
TOOLS_STAMP := $(VENV)/.installed-tools
$(TOOLS_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e ".[test,site,browser]"
	touch $(TOOLS_STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

# Tests always use the offline MNIST subset (fast, repeatable, no network needed) and an
# empty model cache, so notebooks that train-or-load really train. The real-browser tests
# (tests/browser/, marker `browser`: JupyterLab in headless Chromium) run last and reuse the
# models nbval trained; without Chromium they skip, and in CI (.ci/run) they fail.
TEST_CACHE := $(CURDIR)/.test-cache
test: test-newest test-lowest

test-newest: $(TOOLS_STAMP)
	$(BIN)/ruff check vae_tutorial tests notebooks benchmarks site
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

lint: $(TOOLS_STAMP)
	$(BIN)/ruff check vae_tutorial tests notebooks benchmarks site

# Re-execute notebooks top to bottom in fresh kernels and store their outputs (maintainers).
execute: $(TOOLS_STAMP)
	VAE_TUTORIAL_OFFLINE=1 $(BIN)/python -m vae_tutorial.notebook_tools execute notebooks/*.ipynb

# Student copies in student/, solutions cleared by nbgrader; refuses to overwrite a copy
# already there (a learner's work) unless run as `make student STUDENT_ARGS=--force`.
student: $(TOOLS_STAMP)
	$(BIN)/python -m vae_tutorial.student_copy write notebooks student $(STUDENT_ARGS)

# The course website from the committed outputs (no execution), opened from disk with no
# network: site/_build/html/index.html. Warnings (a broken link, say) fail the build.
site: $(TOOLS_STAMP)
	$(BIN)/python site/build.py

# Prepare a classroom without a reliable network (INSTRUCTORS.md): download MNIST once and
# pre-train every notebook's cached models. ROOM_ARGS passes options, for example
# ROOM_ARGS="--cache-dir /srv/vae-cache" or ROOM_ARGS=--offline.
prepare-room: $(TOOLS_STAMP)
	$(BIN)/python -m vae_tutorial.prepare_room $(ROOM_ARGS)

benchmark: $(TOOLS_STAMP)
	VAE_TUTORIAL_OFFLINE=1 $(BIN)/python benchmarks/notebooks.py --mode both

clean:
	rm -rf $(VENV) $(LOWEST_VENV) student .pytest_cache .ruff_cache .test-cache site/_build
