# driftloop — one place for every developer and CI command.
#
#   make run    set everything up (uv, the workspace) and run the platform with the demo
#   make test   the whole test suite (unit, component, integration, end to end)
#   make ci     what .ci/run runs: checks (lint, types, buf, stale stubs, compose, deploy) and tests

SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen
BUF := node_modules/.bin/buf

.PHONY: run up demo setup test test-kafka test-kafka-cluster test-fast test-servers check lint types imports proto proto-check buf-lint \
        sizes compose-check deploy-tools deploy-check image-check ci bench clean

HINT := @echo "driftloop: in another terminal, from this folder: .venv/bin/driftloop status (or events tail drift, models list, down)"

run: setup  ## set up and run the embedded platform with the demo
	$(HINT)
	$(RUN) driftloop demo

up: setup  ## set up and run the embedded platform (no demo)
	$(HINT)
	$(RUN) driftloop up

# --compile-bytecode: every process imports from .pyc files instead of compiling
# the libraries' sources again (a third of a service's start-up CPU; where
# PYTHONDONTWRITEBYTECODE is set, nothing would ever be cached). Once ~35 s
# of CPU, then only what changed.
setup: $(UV)  ## install the locked workspace into .venv, compiled to bytecode
	$(UV) sync --frozen --compile-bytecode
	$(RUN) python -m compileall -q libs/driftloop/src cli/src services/*/src >/dev/null

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

test: setup test-servers  ## the whole test suite on Tansu (two workers: the loop tests beside the rest)
	$(RUN) pytest -n 2 --dist loadgroup -m "not kafka_only and not kafka_cluster"

test-kafka: setup test-servers  ## the Kafka-touching integration and e2e tests on Apache Kafka (needs Java 17+, Maven once)
	DRIFTLOOP_TEST_BROKER=kafka $(RUN) pytest -n 2 --dist loadgroup \
	  -m "(kafka or kafka_only) and not kafka_cluster"

test-kafka-cluster: setup test-servers  ## the closed loop on a three-broker Apache Kafka cluster under faults
	$(RUN) pytest -m kafka_cluster

test-fast: setup test-servers  ## unit and component tests only
	$(RUN) pytest -m "not integration and not e2e"

test-servers:  ## install PostgreSQL and Redis when missing (the suite starts its own)
	@scripts/test-servers.sh

check: lint types imports sizes buf-lint proto-check asyncapi-check compose-check deploy-check

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .

types: setup  ## mypy over the platform library, the CLI and every service (config: pyproject.toml)
	$(RUN) mypy libs/driftloop/src/driftloop/platform cli/src services/*/src

imports: setup  ## the import contracts of .importlinter (layering, services apart)
	$(RUN) lint-imports --no-cache

sizes: setup  ## no function of the platform's code over 100 lines (ruff counts statements, not lines)
	$(RUN) python scripts/check_function_size.py

asyncapi: setup  ## regenerate docs/asyncapi.yaml, .html and CONTRACTS.md's events table from the code
	$(RUN) python scripts/gen_asyncapi.py docs

asyncapi-check: setup  ## fail when the AsyncAPI document or the events table is stale
	@tmp=$$(mktemp -d) && $(RUN) python scripts/gen_asyncapi.py $$tmp && \
	for f in asyncapi.yaml asyncapi.html CONTRACTS.md; do \
	  cmp -s $$tmp/$$f docs/$$f || { echo "stale: docs/$$f (run make asyncapi)"; exit 1; }; \
	done && echo "AsyncAPI document is up to date"

proto: setup  ## regenerate the Python stubs from proto/ into libs/
	$(RUN) python scripts/gen_proto.py libs/driftloop/src

proto-check: setup  ## fail when the committed stubs are stale
	@tmp=$$(mktemp -d) && $(RUN) python scripts/gen_proto.py $$tmp && \
	for f in $$(cd $$tmp && find . -name '*_pb2*.py*' -not -path '*/__pycache__/*'); do \
	  cmp -s $$tmp/$$f libs/driftloop/src/$$f || { echo "stale stub: $$f (run make proto)"; exit 1; }; \
	done && \
	for f in $$(cd libs/driftloop/src && find . -name '*_pb2*.py*' -not -path '*/__pycache__/*'); do \
	  [ -e $$tmp/$$f ] || { echo "orphan stub: $$f (run make proto)"; exit 1; }; \
	done && echo "stubs are up to date"

$(BUF):
	npm ci --no-audit --no-fund

buf-lint: $(BUF)
	cd proto && ../$(BUF) lint

compose-check:
	@command -v docker-compose >/dev/null || { apt-get update -qq && apt-get install -y -qq docker-compose >/dev/null; }
	docker-compose -f docker-compose.yml config --quiet && echo "docker-compose.yml is valid"

# Kubernetes manifests: kustomize and kubectl-validate from the Go module proxy,
# the CRD schemas from the Go module proxy and Maven Central (deploy/schemas),
# all cached under .tools. Oldest and newest Kubernetes we validate against
# (kubectl-validate embeds the schemas of 1.23 to 1.30).
KUSTOMIZE_VERSION := v5.5.0
KUBECTL_VALIDATE_VERSION := v0.0.4
PROM_OPERATOR_VERSION := v0.79.2
K8S_VERSIONS := 1.27 1.30

.tools/bin/kustomize:
	GOBIN=$(CURDIR)/.tools/bin go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

.tools/bin/kubectl-validate:
	GOBIN=$(CURDIR)/.tools/bin go install sigs.k8s.io/kubectl-validate@$(KUBECTL_VALIDATE_VERSION)

.tools/crds/.done: deploy/schemas/fetch-crds.sh deploy/schemas/strimzi-pom.xml
	PROM_OPERATOR_VERSION=$(PROM_OPERATOR_VERSION) deploy/schemas/fetch-crds.sh .tools/crds
	touch $@

deploy-tools: .tools/bin/kustomize .tools/bin/kubectl-validate .tools/crds/.done

deploy-check: setup deploy-tools  ## render, validate and test the Kubernetes overlays
	K8S_VERSIONS="$(K8S_VERSIONS)" deploy/check.sh

image-check:  ## build the image with podman (no registry, no Docker engine) and run the demo in it
	deploy/image/podman-check.sh

ci: check test

bench: setup  ## side-by-side benchmarks; writes bench/results/*.md
	$(RUN) python -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
