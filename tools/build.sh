#!/usr/bin/env bash
# `make tools`: builds the real engines the end-to-end tests run into .tools/bin/, from the Go module proxy only,
# at the versions in tools/versions.env. A binary already built at its pinned version is kept, so a second run
# does nothing; the Go module and build caches are the user's own and are reused.
set -euo pipefail

command -v go >/dev/null || { echo "make tools: needs Go 1.26 or later on PATH (https://go.dev/doc/install)" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=versions.env
source "$root/tools/versions.env"
bin=$root/.tools/bin
work=$root/.tools/build
mkdir -p "$bin" "$work"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

# current NAME PIN: true when .tools/bin/NAME was built from exactly PIN.
current() { [[ -x $bin/$1 && -f $bin/.$1.pin && $(<"$bin/.$1.pin") == "$2" ]]; }
stamp() { printf '%s' "$2" >"$bin/.$1.pin"; }
fail() { echo "make tools: could not build $1 from the module $2 (the go output above says why)" >&2; exit 1; }

# module_dir MODULE VERSION: the module's folder in the Go module cache, downloaded through the proxy if needed.
module_dir() {
    go mod download -json "$1@$2" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error")))'
}

# The replace directives of a go.mod (as `go mod edit -json` prints it) as `go mod edit` flags; local (path-only)
# replaces point into the upstream repository and are left out. Python 3.11 parses it (no backslash in an f-string).
REPLACES_PY='
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    new, old = r["New"], r["Old"]
    if new.get("Version"):
        path = old["Path"] + ("@" + old["Version"] if old.get("Version") else "")
        print("-replace=" + path + "=" + new["Path"] + "@" + new["Version"])
'

# wrapper DIR MODULE VERSION PACKAGE: a module of ours requiring MODULE@VERSION that repeats MODULE's non-local
# replace directives (a replace only applies in the main module, so `go install MODULE@VERSION` refuses them).
# Every step is checked on its own: `set -e` does nothing inside a subshell whose failure is handled with `||`.
wrapper() {
    local dir=$1 module=$2 version=$3 package=$4 upstream replaces
    upstream=$(module_dir "$module" "$version") || fail "$package" "$module@$version"
    rm -rf "$dir" && mkdir -p "$dir" || fail "$package" "$module@$version"
    replaces=$(go mod edit -json "$upstream/go.mod" | python3 -c "$REPLACES_PY") \
        || fail "$package" "$module@$version (its replace directives could not be read)"
    (cd "$dir" && go mod init kong-slo.tools/"$(basename "$dir")" >/dev/null 2>&1) || fail "$package" "$module@$version"
    if [[ -n $replaces ]]; then
        # shellcheck disable=SC2086  # one flag per line, none with spaces
        (cd "$dir" && go mod edit $replaces) || fail "$package" "$module@$version (go mod edit -replace)"
    fi
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$package" >"$dir/tools.go"
    (cd "$dir" && go get "$module@$version") || fail "$package" "$module@$version"
    (cd "$dir" && go mod tidy) || fail "$package" "$module@$version (go mod tidy)"
}

build_otelcol() {
    local pin="$OTELCOL_RELEASE/$OTELCOL_STABLE_RELEASE/$(sha256sum "$root/tools/otelcol/manifest.yaml" | cut -c1-12)"
    current otelcol "$pin" && return
    echo "make tools: building otelcol (collector components $OTELCOL_RELEASE)"
    GOBIN=$work/gobin go install "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_RELEASE" \
        || fail otelcol "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_RELEASE"
    sed -e "s|@OTELCOL@|$OTELCOL_RELEASE|g" -e "s|@STABLE@|$OTELCOL_STABLE_RELEASE|g" \
        -e "s|@OUTPUT@|$work/otelcol|g" "$root/tools/otelcol/manifest.yaml" >"$work/otelcol-manifest.yaml"
    "$work/gobin/builder" --config "$work/otelcol-manifest.yaml" \
        || fail otelcol "the components in tools/otelcol/manifest.yaml at $OTELCOL_RELEASE"
    install -m 0755 "$work/otelcol/otelcol" "$bin/otelcol"
    stamp otelcol "$pin"
}

build_pulumi() {
    current pulumi "$PULUMI_VERSION" && return
    echo "make tools: building pulumi $PULUMI_VERSION"
    local module=github.com/pulumi/pulumi/pkg/v3
    wrapper "$work/pulumi" "$module" "v$PULUMI_VERSION" "$module/cmd/pulumi"
    (cd "$work/pulumi" && go get "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" && go build -o "$bin/pulumi" \
        -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" "$module/cmd/pulumi") \
        || fail pulumi "$module@v$PULUMI_VERSION"
    stamp pulumi "$PULUMI_VERSION"
}

build_language_python() {
    local pin="$PULUMI_LANGUAGE_PYTHON_VERSION/$PULUMI_VERSION/policy-shim"
    current pulumi-language-python "$pin" && return
    echo "make tools: building pulumi-language-python $PULUMI_LANGUAGE_PYTHON_VERSION"
    local module=github.com/pulumi/pulumi/sdk/v3 sdk
    wrapper "$work/pulumi-language-python" "$module" "v$PULUMI_LANGUAGE_PYTHON_VERSION" \
        "$module/python/cmd/pulumi-language-python"
    (cd "$work/pulumi-language-python" && go build -o "$bin/pulumi-language-python" \
        -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_LANGUAGE_PYTHON_VERSION" \
        "$module/python/cmd/pulumi-language-python") || fail pulumi-language-python "$module@v$PULUMI_LANGUAGE_PYTHON_VERSION"
    # The scripts the CLI and the language host look for beside it, at the release of the Python SDK in use.
    sdk=$(module_dir "$module" "v$PULUMI_VERSION") || fail pulumi-language-python "$module@v$PULUMI_VERSION"
    install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$bin/"
    install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$bin/"
    # The policy-pack shim left the SDK after 3.68; the language host's own release still ships it.
    install -m 0755 "$(module_dir "$module" "v$PULUMI_LANGUAGE_PYTHON_VERSION")/python/dist/pulumi-analyzer-policy-python" \
        "$bin/"
    stamp pulumi-language-python "$pin"
}

build_otelcol
build_pulumi
build_language_python

echo "make tools: .tools/bin holds"
echo "  otelcol                 $("$bin/otelcol" --version)"
echo "  pulumi                  $("$bin/pulumi" version)"
echo "  pulumi-language-python  $PULUMI_LANGUAGE_PYTHON_VERSION (exec script and dynamic provider from $PULUMI_VERSION)"
