# Guanghe developer commands. `make demo` and `make test` work on a fresh machine with only
# Python 3.11 and the package registries: they bootstrap uv, then install from uv.lock.

UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
RUN := $(UV) run --frozen
# Test processes (pytest-xdist): one per core by default; TEST_JOBS=0 runs in this process.
# --dist loadgroup keeps each xdist_group (the Spark tests) on one worker.
TEST_JOBS ?= auto
# Each test process compiles every module and pytest's assertion rewrites: let them write the
# bytecode caches (the environment may forbid it) so that the workers and later runs reuse them.
unexport PYTHONDONTWRITEBYTECODE
PYTEST := $(RUN) pytest -n $(TEST_JOBS) --dist loadgroup

.PHONY: setup demo chromium chromaprint test test-fast fuzz lint typecheck bench-sim clean

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

setup: $(UV) ## Install the locked dependencies into .venv
	$(UV) sync --frozen

demo: setup chromaprint ## Generate a demo platform if needed, run the cycle, serve on 127.0.0.1:8000
	$(RUN) guanghe demo

chromium: ## Headless Chromium for the dashboard tests (Debian packages)
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)

chromaprint: ## Chromaprint (libchromaprint1 and fpcalc) for the sound fingerprints of videos
	@command -v fpcalc >/dev/null || (apt-get update -qq && apt-get install -y -qq libchromaprint-tools)

lint: setup
	$(RUN) ruff check src tests bench
	$(RUN) ruff format --check src tests bench

typecheck: setup
	$(RUN) mypy

# mypy (one process, about 40 s of CPU from a cold cache) runs alongside the tests rather than
# before them: the test workers leave the cores idle at times (waiting on child processes,
# servers, PostgreSQL; the last worker's tail), which mypy fills. Its report is printed after
# the tests' and the target fails if either failed.
test: setup chromium chromaprint lint ## Lint, type check, and every test on SQLite and PostgreSQL
	@types_log=$$(mktemp); \
	$(RUN) mypy >"$$types_log" 2>&1 & types=$$!; \
	trap 'rm -f "$$types_log"' EXIT; trap 'kill $$types 2>/dev/null; exit 130' INT TERM; \
	echo "mypy runs alongside the tests; its report follows theirs"; \
	$(PYTEST) --durations=25; tests_status=$$?; \
	wait $$types; types_status=$$?; \
	echo "== mypy (strict: src, tests, bench) =="; cat "$$types_log"; \
	test $$tests_status -eq 0 -a $$types_status -eq 0

test-fast: setup chromaprint ## The inner loop: every test but the slow, Spark, browser and crash ones
	$(PYTEST) -m "not slow and not spark and not browser and not crash"

fuzz: setup ## Schemathesis over the live API, longer and with a random seed (FUZZ_EXAMPLES=200)
	GUANGHE_FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),200) HYPOTHESIS_PROFILE=explore \
		$(RUN) pytest tests/api/test_fuzz.py -m slow -q

bench-sim: setup ## The synthetic-platform generator benchmark
	$(RUN) python -m bench sim_generate

clean:
	rm -rf .venv $(TOOLS) .guanghe .mypy_cache .ruff_cache .pytest_cache
