# Two commands do all the set-up (README):
#   make lab    open the course in JupyterLab at notebooks/
#   make test   lint, unit tests and nbval over every notebook (offline data)
# Both create a local virtual environment in .venv on first use and reuse it afterwards;
# it is rebuilt when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test lint execute student benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[test]"
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

# Tests always use the offline MNIST subset (fast, repeatable, no network needed) and an
# empty model cache, so notebooks that train-or-load really train.
TEST_CACHE := $(CURDIR)/.test-cache
test: $(STAMP)
	$(BIN)/ruff check vae_tutorial tests notebooks benchmarks
	rm -rf $(TEST_CACHE)
	VAE_TUTORIAL_OFFLINE=1 VAE_TUTORIAL_CACHE_DIR=$(TEST_CACHE) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check vae_tutorial tests notebooks benchmarks

# Re-execute notebooks top to bottom in fresh kernels and store their outputs (maintainers).
execute: $(STAMP)
	VAE_TUTORIAL_OFFLINE=1 $(BIN)/python -m vae_tutorial.notebook_tools execute notebooks/*.ipynb

# Student copies (solutions stripped) in student/.
student: $(STAMP)
	$(BIN)/python -m vae_tutorial.notebook_tools student notebooks student

benchmark: $(STAMP)
	VAE_TUTORIAL_OFFLINE=1 $(BIN)/python benchmarks/notebooks.py

clean:
	rm -rf $(VENV) student .pytest_cache .ruff_cache .test-cache
