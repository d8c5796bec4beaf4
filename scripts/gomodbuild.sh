#!/usr/bin/env bash
# gomodbuild.sh MODULE@VERSION PACKAGE OUT [LDFLAGS]: build PACKAGE (a path
# inside the module: ./cmd, .) of a module from the Go module proxy into
# the file OUT, statically (CGO_ENABLED=0), trimmed, at low priority.
# `go install module@version` refuses a module whose go.mod has replace or
# exclude directives, so the module's source is copied, writable, into a
# directory of its own, outside any module (the download changes no
# go.mod), and built there; the directory is removed afterwards.
# scripts/compose.sh and scripts/kompose.sh build this way.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 MODULE@VERSION PACKAGE OUT [LDFLAGS]" >&2; exit 2; }
mv=$1 pkg=$2 out=$3 ldflags=${4:-}
case $out in /*) ;; *) out=$PWD/$out ;; esac
GO=${GO:-go}

work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cd "$work"
src=$("$GO" mod download -json "$mv" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$src" ] || [ ! -f "$src/go.mod" ]; then
  echo "gomodbuild: go mod download $mv gave no module directory" >&2
  exit 1
fi
cp -R "$src" src
chmod -R u+w src # the module cache is read-only
cd src
GOFLAGS=-buildvcs=false CGO_ENABLED=0 nice -n 19 "$GO" build -trimpath -ldflags "-s -w $ldflags" -o "$work/bin" "$pkg"
install -m 0755 "$work/bin" "$out"
