#!/usr/bin/env bash
# Refresh the browser libraries shipped in src/loadzone/static/vendor from the npm registry.
# The files are committed, so running the app never needs Node or the network.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=src/loadzone/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() {  # name@version file...
  local spec=$1; shift
  local name=${spec%@*}
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  local tarball=("$tmp"/"${name//\//-}"-*.tgz)
  mkdir -p "$tmp/$name" "$dest/$name"
  tar -xzf "${tarball[0]}" -C "$tmp/$name"
  for file in "$@" LICENSE LICENSE.md package.json; do
    cp "$tmp/$name/package/$file" "$dest/$name/" 2>/dev/null || true
  done
  rm -f "${tarball[0]}"
}
fetch socket.io-client@4.8.1 dist/socket.io.esm.min.js dist/socket.io.esm.min.js.map
fetch chart.js@4.5.1 dist/chart.umd.min.js
fetch swagger-ui-dist@5.32.0 swagger-ui-bundle.js swagger-ui.css
ls -R "$dest"
