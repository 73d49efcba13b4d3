#!/usr/bin/env bash
# Offline govulncheck for `make vulncheck`.
#
# govulncheck cannot reach vuln.go.dev from these machines, so this script builds its
# database from the golang.org/x/vulndb module (fetched through the Go module proxy, the one
# registry we reach), caches it under .cache/vulndb/<version> (built once per pin), scans ./...
# in JSON mode and fails on any finding not waived in scripts/govulncheck.allow.
#
# Settings (environment):
#   VULNDB_VERSION     vulndb pseudo-version to use (default: the pin below)
#   VULNDB_OSV_DIR     use this folder of OSV records (a vulndb checkout's data/osv) instead of
#                      downloading the module; the database is rebuilt on every run
#   VULNCHECK_FAIL_AT  weakest finding level that fails: symbol (default: a vulnerable function
#                      is reachable, govulncheck's own rule), package or module
#   VULNCHECK_MODULE   folder of the module to scan (default: the repository root)
#   VULNCHECK_CACHE    folder for the helper, the databases and the last scan (default:
#                      .cache/vulndb); relative folders are taken from the repository root
#
# Exit status: 0 pass, 1 blocking findings, 2 the check could not run (no database, tool error).
set -euo pipefail

# The vulnerability data pin. To update it: take a newer commit of
# https://go.googlesource.com/vulndb, form its pseudo-version
# v0.0.0-<committer time in UTC as YYYYMMDDhhmmss>-<first 12 hex digits of the hash>, check
# that `go mod download -json golang.org/x/vulndb@VERSION` succeeds from an empty module, and
# change the line below. Newer is better: the data is only as current as this pin.
VULNDB_PIN=v0.0.0-20261105234957-e22db6528018

cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.26.10}"
version="${VULNDB_VERSION:-$VULNDB_PIN}"
fail_at="${VULNCHECK_FAIL_AT:-symbol}"
# Every failure before the verdict exits 2, never 1: 1 means findings.
module="$(cd "${VULNCHECK_MODULE:-.}" && pwd)" || exit 2
cache="$(mkdir -p "${VULNCHECK_CACHE:-.cache/vulndb}" && cd "${VULNCHECK_CACHE:-.cache/vulndb}" && pwd)" || exit 2
tmp="$(mktemp -d "$cache/run.XXXXXX")" || exit 2
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Build the helper once, so its exit status (1 findings, 2 errors) reaches make unchanged.
tool="$cache/bin/vulncheck"
go build -o "$tool" ./tools/vulncheck || exit 2

if [[ -n "${VULNDB_OSV_DIR:-}" ]]; then
	src="$VULNDB_OSV_DIR"
	db="$tmp/local"
	echo "vulncheck: database from local OSV folder $src"
else
	db="$cache/$version"
	if [[ ! -f "$db/index/modules.json" ]]; then
		fetch="$tmp/fetch"
		mkdir "$fetch" && printf 'module vulndbfetch\n\ngo 1.26\n' >"$fetch/go.mod" || exit 2
		t=$(now)
		if ! out="$(cd "$fetch" && GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@$version" 2>&1)" ||
			! dir="$(printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" || [[ -z "$dir" ]]; then
			echo "vulncheck: cannot fetch golang.org/x/vulndb@$version from the Go module proxy:" >&2
			printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"Error": "\(.*\)"$/  \1/p' | sed 's/\\n\\t/ /g' >&2
			echo "vulncheck: no vulnerability database, so nothing was checked (set VULNDB_VERSION to a" >&2
			echo "           version the proxy serves, or VULNDB_OSV_DIR to a vulndb data/osv folder)" >&2
			exit 2
		fi
		echo "vulncheck: fetched golang.org/x/vulndb@$version in $(elapsed "$t")"
		src="$dir/data/osv"
	fi
fi

if [[ ! -f "$db/index/modules.json" ]]; then
	t=$(now)
	"$tool" index -src "$src" -out "$db"
	echo "vulncheck: database built in $(elapsed "$t")"
fi

t=$(now)
scan="$cache/scan.json"
if ! go tool govulncheck -C "$module" -db "file://$db" -format json ./... >"$tmp/scan.json"; then
	mv "$tmp/scan.json" "$scan"
	echo "vulncheck: govulncheck failed; its output is in $scan" >&2
	exit 2
fi
mv "$tmp/scan.json" "$scan"
echo "vulncheck: scan of ${VULNCHECK_MODULE:-.}/... took $(elapsed "$t")"

"$tool" judge -allow scripts/govulncheck.allow -fail-at "$fail_at" -in "$scan"
