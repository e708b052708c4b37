#!/usr/bin/env bash
# Installs the real peers the tests run against into $DBS_PEERS (default
# .peers/): litestream v0.3.13 (the binary Fly installs, from npm) and
# s3rver 3.7.1 patched to verify SigV4 (test/tools/s3rver/); and the peers
# that exist only as Go programs, built by `go install` of their published
# module at a pinned version (Go's module and build caches stay on the
# machine, so a second install only links):
#   litestream-v0.5.18/litestream  newest 0.5 (LTX pages as LZ4 blocks)
#   litestream-v0.5.15/litestream  last release writing LZ4-frame pages
#   litestream05 -> litestream-v0.5.18/litestream
#   litefs-v0.5.14/litefs          LiteFS (FUSE replication), for the
#                                  LiteFS tests (they need fuse3 and root)
#   litefs -> litefs-v0.5.14/litefs
#   minio-<pseudo-version>/minio   MinIO server (the second S3 server of the
#                                  tests; MinIO publishes no semver module
#                                  tags, so a pinned commit pseudo-version)
#   minio -> minio-<pseudo-version>/minio
# Needs Go >= 1.25 (/usr/local/go/bin or PATH): without it this fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=${DBS_PEERS:-$root/.peers}
mkdir -p "$peers"
cd "$peers"
if [ ! -x litestream ] || ! ./litestream version | grep -q '^v0.3.13$'; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @flydotio/litestream-linux-x64@1.0.1 >/dev/null &&
    tar xzf flydotio-litestream-linux-x64-1.0.1.tgz)
  install -m 0755 "$tmp/package/litestream" litestream
  rm -rf "$tmp"
fi
./litestream version | grep -q '^v0.3.13$' || { echo "peers: litestream is not v0.3.13" >&2; exit 1; }
# Go peers: go install MODULE@VERSION into $peers/<name>-<version>/.
export PATH=$PATH:/usr/local/go/bin
go_peer() { # name module version
  local name=$1 module=$2 version=$3 dir=$peers/$1-$3
  [ -x "$dir/$name" ] && return 0
  if ! command -v go >/dev/null; then
    echo "peers: go is not installed: $name $version (a Go program) cannot be built; install Go >= 1.25 at /usr/local/go" >&2
    exit 1
  fi
  local have
  have=$(go env GOVERSION | sed 's/^go//')
  if ! printf '1.25\n%s\n' "$have" | sort -V -C; then
    echo "peers: Go $have is older than 1.25, which $name $version needs" >&2
    exit 1
  fi
  echo "peers: go install $module@$version (minutes on a fresh machine)" >&2
  # Release builds stamp main.Version; a module build of an older tag would
  # say "(development build)", so stamp it the same way.
  GOBIN=$dir GOFLAGS=-buildvcs=false go install -ldflags "-X main.Version=$version" "$module@$version"
}
go_peer litestream github.com/benbjohnson/litestream/cmd/litestream v0.5.18
go_peer litestream github.com/benbjohnson/litestream/cmd/litestream v0.5.15
ln -sfn litestream-v0.5.18/litestream litestream05
litestream-v0.5.15/litestream version | grep -q '^v0.5.15' ||
  { echo "peers: litestream-v0.5.15 is not v0.5.15" >&2; exit 1; }
./litestream05 version | grep -q '^v0.5.18' || { echo "peers: litestream05 is not v0.5.18" >&2; exit 1; }
go_peer litefs github.com/superfly/litefs/cmd/litefs v0.5.14
ln -sfn litefs-v0.5.14/litefs litefs
./litefs version | grep -q 'v0.5.14' || { echo "peers: litefs is not v0.5.14" >&2; exit 1; }
# MinIO (a few minutes to build the first time, ~150 MB): the production S3
# server the S3 suites also run against (DBS_S3_SERVER=minio, lib_s3.sh).
minio_version=v0.0.0-20260212201848-7aac2a2c5b7c
go_peer minio github.com/minio/minio "$minio_version"
ln -sfn "minio-$minio_version/minio" minio
./minio --version | grep -q '^minio version' || { echo "peers: minio does not run" >&2; exit 1; }
# Further peers add themselves here through their own setup scripts.
for s in "$root"/test/tools/*/setup-peer.sh; do
  [ -e "$s" ] || continue
  DBS_PEERS=$peers bash "$s"
done
echo "peers: ready in $peers"
