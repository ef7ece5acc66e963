# One dev loop: make install | check | test | lint | serve | bench | loadtest
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_VERBOSITY := error

.PHONY: install check test lint format serve index bench loadtest eval clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip >/dev/null
	# torch first and pinned: the CPU build (from pip's find-links here, or TORCH_INDEX in an image)
	$(BIN)/pip install torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install -e '.[dev]'
	# The ONNX export of the model, made once and cached (QA_MODEL_CACHE_DIR, default ~/.cache/qa-service)
	$(BIN)/qa export
	touch $(STAMP)

index: install
	$(BIN)/qa index

serve: install
	$(BIN)/qa serve --rebuild

test: install
	$(BIN)/pytest -q

# The fast loop: lint, then every test that needs neither a browser nor a live server (markers
# `browser` and `live`; see pyproject.toml). `make test` runs everything.
check: lint
	$(BIN)/pytest -q -m "not browser and not live"

lint: install
	$(BIN)/ruff check qa_service tests benchmarks
	$(BIN)/ruff format --check qa_service tests benchmarks

format: install
	$(BIN)/ruff format qa_service tests benchmarks
	$(BIN)/ruff check --fix qa_service tests benchmarks

eval: install
	$(BIN)/qa index
	$(BIN)/qa eval

bench: install
	$(BIN)/qa index
	$(BIN)/python -m benchmarks.bench

loadtest: install
	$(BIN)/qa index
	$(BIN)/python -m benchmarks.loadtest --users 16 --seconds 60

clean:
	rm -rf $(VENV) index/current index/builds .pytest_cache
