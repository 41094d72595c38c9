# Two entry points (see README): `make run` and `make test`. Both install first.
PYTHON ?= python3
# Offline checkouts that sit beside a shared data folder use it; otherwise ./datasets (PyG downloads on first use).
DPGRAPH_DATA ?= $(if $(wildcard ../shared/datasets/Cora/raw),$(abspath ../shared/datasets),$(abspath datasets))
export DPGRAPH_DATA

# the layering contract of pyproject.toml's [tool.importlinter]
LINT_IMPORTS = $(PYTHON) -c 'import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))'

.PHONY: install install-test run test lint

install:
	$(PYTHON) -m pip install --quiet "torch==2.13.0"
	$(PYTHON) -m pip install --quiet -e .

install-test: install
	$(PYTHON) -m pip install --quiet -e ".[test]"

run: install
	$(PYTHON) -m dpgraph run pipelines/cora.yaml

test: install-test
	$(PYTHON) -m ruff check dpgraph tests benchmarks examples
	$(LINT_IMPORTS)
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check dpgraph tests benchmarks examples
	$(LINT_IMPORTS)
