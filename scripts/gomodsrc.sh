#!/usr/bin/env bash
# gomodsrc.sh MODULE@VERSION DIR: copy a module's source from the Go module
# proxy into DIR (which must not exist), writable, so that it can be built
# there: `go install module@version` refuses a module whose go.mod has
# replace or exclude directives, and the module cache is read-only.
# scripts/compose.sh and scripts/kompose.sh build this way. Run it outside
# any module: the download must change no go.mod.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 MODULE@VERSION DIR" >&2; exit 2; }
src=$("${GO:-go}" mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$src" ] || [ ! -f "$src/go.mod" ]; then
  echo "gomodsrc: go mod download $1 gave no module directory" >&2
  exit 1
fi
cp -R "$src" "$2"
chmod -R u+w "$2"
