# Two commands do everything on a fresh machine:  make run   and   make test
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast mutation setup clean

setup: $(STAMP)

# torch goes in first, pinned: a bare `torch` requirement pulls a multi-GB CUDA build on Linux.
# Elsewhere, point TORCH_PIP_ARGS at PyTorch's CPU wheel index (see README).
TORCH ?= torch==2.13.0
TORCH_PIP_ARGS ?=

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m harness.run $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -n auto --dist worksteal $(ARGS)

# The inner loop: every test module, without the tests marked slow (those that run an experiment, a
# command line or a sweep); tests/test_fast_subset.py checks that each module keeps a test here. CI runs `make test`.
test-fast: $(STAMP)
	$(PY) -m pytest -n auto --dist worksteal -m "not slow" $(ARGS)

# Mutation testing of the modules where a wrong line changes a result (benchmarks/mutation.py; one to two hours
# on one core). ARGS="--module replay tally" runs only those.
mutation: $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,mutation]"
	nice -n 19 $(PY) benchmarks/mutation.py $(ARGS)

clean:
	rm -rf $(VENV) results/runs results/sweeps
