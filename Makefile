# The two commands of the README: `make dev` runs the product, `make test` runs the whole suite.
# docs/local-development.md and docs/testing.md say more.
# Both set up everything they need first (a virtualenv in .venv from the lock file).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# localstripe (GPL-3.0, a dev/test server only) lives in its own virtualenv: it is never imported by
# product code, and its dependencies (python-dateutil 4) conflict with botocore's.
STRIPE_VENV := .venv-localstripe
STRIPE_STAMP := $(STRIPE_VENV)/.installed
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: dev test test-fast setup lock lint seed clean synth bench bench-certificates bench-video load cost

dev: setup
	scripts/system-tools.sh dev
	$(BIN)/lms dev

test: setup lint
	scripts/system-tools.sh test
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The fast suites only (no CDK synth): a developer's inner loop.
test-fast: setup
	$(BIN)/pytest -n 2 --dist loadgroup -m "not infra and not slow" $(PYTEST_ARGS)

setup: $(STAMP) $(STRIPE_STAMP)

$(STRIPE_STAMP): requirements-localstripe.lock
	test -x $(STRIPE_VENV)/bin/python || $(PYTHON) -m venv $(STRIPE_VENV)
	$(STRIPE_VENV)/bin/python -m pip install --quiet -r requirements-localstripe.lock
	touch $(STRIPE_STAMP)

$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-resolve the lock file after changing dependencies in pyproject.toml.
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements-dev.lock
	$(BIN)/uv pip compile pyproject.toml --python-version 3.14 -o requirements.lock
	echo "localstripe==1.15.10" | $(BIN)/uv pip compile - --python-version 3.11 -o requirements-localstripe.lock

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy lms api tasks workflows infra

# Re-seed the running `make dev` of this checkout (found through .lms/dev.json); the demo password
# stays the one it printed unless LMS_DEMO_PASSWORD is set.
seed: setup
	$(BIN)/lms seed

clean:
	rm -rf $(VENV) $(STRIPE_VENV) cdk.out .pytest_cache

# Synthesise the CloudFormation template into cdk.out without the CDK CLI (bundles the Lambda code with pip).
synth: setup
	$(BIN)/python -m infra.app

# The purchase, certificate and publishing benchmarks (figures, not assertions; see docs/performance.md).
bench: setup
	$(BIN)/python -m benchmarks.purchase $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.certificates $(CERT_BENCH_ARGS)
	$(BIN)/python -m benchmarks.publish $(PUBLISH_BENCH_ARGS)

# The certificate benchmark alone (PDF render time and size, state transitions per issuance).
bench-certificates: setup
	$(BIN)/python -m benchmarks.certificates $(CERT_BENCH_ARGS)

# The video benchmark: one generated 720p upload through the workflow against one plain ffmpeg.
bench-video: setup
	$(BIN)/python -m benchmarks.video $(BENCH_ARGS)

# The Locust load suite against the running `make dev` (or LOAD_URL), LOAD_SECONDS (60) with
# LOAD_USERS (20): a table per endpoint and flow, and load-report/ (docs/performance.md).
load: setup
	$(BIN)/python -m load

# The cost model: each business operation measured on a local cloud, priced per 1,000 operations.
cost: setup
	$(BIN)/python -m benchmarks.cost $(COST_ARGS)
