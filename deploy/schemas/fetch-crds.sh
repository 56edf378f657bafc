#!/usr/bin/env bash
# Puts the CRDs the overlays use into $1 (for kubectl-validate --local-crds):
# the Prometheus operator's from its Go module (the module ships them as YAML),
# Strimzi's generated from its API model with its own CRD generator (both
# from Maven Central). Registries only: CI reaches nothing else.
set -euo pipefail
out=$1
prom_version=${PROM_OPERATOR_VERSION:?}
mkdir -p "$out"
out=$(cd "$out" && pwd)
dir=$(go mod download -json "github.com/prometheus-operator/prometheus-operator@$prom_version" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
for kind in servicemonitors prometheusrules; do
  cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$out/"
  chmod u+w "$out/monitoring.coreos.com_$kind.yaml"
done
here=$(cd "$(dirname "$0")" && pwd)
mvn -q -f "$here/strimzi-pom.xml" dependency:build-classpath -Dmdep.outputFile="$out/.strimzi-classpath"
model=io.strimzi.api.kafka.model
java -cp "$(cat "$out/.strimzi-classpath")" io.strimzi.crdgenerator.CrdGenerator \
  --yaml --api-versions v1beta2 --storage-version v1beta2 --crd-api-version v1 \
  "$model.kafka.Kafka=$out/strimzi-kafka.yaml" \
  "$model.nodepool.KafkaNodePool=$out/strimzi-kafkanodepool.yaml" \
  "$model.topic.KafkaTopic=$out/strimzi-kafkatopic.yaml" \
  "$model.user.KafkaUser=$out/strimzi-kafkauser.yaml" 2> >(grep -v '^SLF4J' >&2)
rm "$out/.strimzi-classpath"
