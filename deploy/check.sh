#!/usr/bin/env bash
# make deploy-check: render every overlay, validate the objects strictly against
# the Kubernetes schemas of the oldest and newest versions we support and the
# CRDs they use, then assert the workload rules over the rendered YAML.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=.tools/bin
rendered=.tools/rendered
mkdir -p "$rendered"
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  "$tools/kustomize" build "$overlay" > "$rendered/$name.yaml"
  for version in $K8S_VERSIONS; do
    "$tools/kubectl-validate" "$rendered/$name.yaml" --version "$version" --local-crds .tools/crds
  done
  echo "deploy/k8s/overlays/$name renders and validates against Kubernetes $K8S_VERSIONS"
done
.venv/bin/pytest -q -p no:randomly tests/deploy
