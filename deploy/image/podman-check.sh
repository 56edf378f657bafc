#!/usr/bin/env bash
# make image-check: build the Dockerfile with podman where no image registry
# and no Docker engine are reachable, then run the image: its user, /data,
# the console scripts and the demo. Debian's podman, runc and debootstrap;
# the base image is a debootstrap'ed bookworm (cached under .tools/image-base).
# The ulimit flags are for sandboxes without CAP_SYS_RESOURCE, where podman's
# default rlimits make runc fail (see deploy/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v podman >/dev/null && command -v debootstrap >/dev/null ||
  { apt-get update -qq && apt-get install -y -qq podman buildah debootstrap >/dev/null; }
base=localhost/driftloop-base:bookworm
rootfs=.tools/image-base
runtime=(--runtime "$(command -v runc)" --ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
if ! podman image exists "$base"; then
  if [ ! -x "$rootfs/usr/bin/pip3" ]; then
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
      bookworm "$rootfs" http://deb.debian.org/debian
  fi
  # This machine's CA bundle, so the build reaches PyPI as the host does.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  printf '[global]\nbreak-system-packages = true\n' > "$rootfs/etc/pip.conf"
  tar -C "$rootfs" -c . | podman import --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" - "$base"
fi
podman build --format docker "${runtime[@]}" --build-arg BASE="$base" \
  --build-arg VERSION="$(git describe --always)" --build-arg REVISION="$(git rev-parse HEAD)" \
  -t localhost/driftloop:check .
run=(podman run --rm "${runtime[@]}" localhost/driftloop:check)
[ "$("${run[@]}" id -u)" = 10001 ]
[ "$("${run[@]}" stat -c %u /data)" = 10001 ]
[ "$("${run[@]}" head -1 /opt/driftloop/bin/driftloop)" = "#!/opt/driftloop/bin/python" ]
"${run[@]}" driftloop --help >/dev/null
"${run[@]}" driftloop demo
echo "image localhost/driftloop:check builds and runs the demo"
