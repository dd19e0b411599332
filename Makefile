# `make run`: set up and run the main job (train the Transformer translator on numbers-dates
# into runs/).  `make test`: set up and test on all three backends.
PYTHON ?= python3
RUN_BACKEND ?= tensorflow
VENV ?= .venv
BIN := $(VENV)/bin
BACKENDS ?= tensorflow jax torch
# pytest-xdist workers per backend; each test file stays on one worker (module fixtures run once).
TEST_WORKERS ?= 2

.PHONY: setup run test bench

setup: $(VENV)/.installed

# torch first, from the constraints file, so nothing can pull a CUDA build of it.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt torch
	$(BIN)/pip install -q -c constraints.txt -e ".[all,test]"
	touch $@

run: setup
	$(BIN)/attention-zoo info
	KERAS_BACKEND=$(RUN_BACKEND) $(BIN)/attention-zoo train transformer --output-dir runs

# pytest once per backend (its own run, two worker processes); fails if any backend fails.
test: setup
	@failed=""; for b in $(BACKENDS); do \
		echo "=== KERAS_BACKEND=$$b ==="; \
		KERAS_BACKEND=$$b $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS) || failed="$$failed $$b"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED on:$$failed"; exit 1; fi; echo "all backends passed"

bench: setup
	@for b in $(BACKENDS); do for bench in attention_layers decoding transformer_throughput; do \
		$(BIN)/python benchmarks/$$bench.py --backend $$b --json; done; done
