#!/usr/bin/env bash
# Side virtualenv with real PyTorch + Hugging Face transformers for tests/hf (the text watermark's torch branch).
# SynthGuard itself never needs torch: keep it out of .venv. Usage: scripts/hf_venv.sh [DIR] (default .venv-hf).
#
#   bash scripts/hf_venv.sh && .venv-hf/bin/python -m pytest -q tests/hf
#
# torch is a CPU build only: on the build machines pip's config resolves torch==2.13.0 to a local CPU wheel; elsewhere
# set HF_TORCH_INDEX to a CPU-only index, or the script stops before pip fetches CUDA wheels. transformers is pinned
# to 5.17.0 (supports torch >= 2.5; the release this machine's package index serves). Idempotent: a stamp file
# holding the pins marks a finished venv; change a pin and the venv is completed again. Offline apart from the
# package index: no model or tokenizer is ever downloaded (HF_HUB_OFFLINE=1, TRANSFORMERS_OFFLINE=1).
set -euo pipefail

DIR="${1:-.venv-hf}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TORCH="torch==2.13.0"
TRANSFORMERS="transformers==5.17.0"
DIFFUSERS="diffusers==0.42.1"  # the labeled-pipeline tests (tests/hf/test_diffusers_pipeline.py)
PYTEST=("pytest>=8" "pytest-timeout>=2.3")  # pytest-timeout: pyproject sets `timeout`
LOCK="$ROOT/requirements/lock.txt"  # synthguard's own dependencies and pytest at the versions the main venv has
PINS="$TORCH $TRANSFORMERS $DIFFUSERS ${PYTEST[*]} synthguard-editable[faces] lock:$(sha256sum "$LOCK" | cut -c1-16)"
STAMP="$DIR/.synthguard-hf-stamp"

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$PINS" && -x "$DIR/bin/python" ]] \
   && "$DIR/bin/python" -c "import torch, transformers, diffusers, pytest, synthguard" 2>/dev/null; then
  echo "hf venv: $DIR is up to date ($PINS)"
  exit 0
fi

t0=$SECONDS
step() {  # step LABEL CMD...: run CMD and print how long it took
  local label=$1 s=$SECONDS
  shift
  "$@"
  echo "hf venv: $label in $((SECONDS - s)) s"
}

[[ -x "$DIR/bin/python" ]] || step "created $DIR" python3 -m venv "$DIR"
pip_install() {  # quiet pip; drop the notes about this machine's unused local index folders
  "$DIR/bin/python" -m pip install -q "$@" 2>&1 | { grep -v -e '^WARNING: Location' -e '^\s*$' || true; }
}
PIP=(pip_install)

# Only a CPU build of torch: resolve first without installing (pip reads the metadata only) and refuse one that
# pulls CUDA (nvidia-* wheels, gigabytes). On the build machines pip's find-links offer torch 2.13.0+cpu; elsewhere
# point HF_TORCH_INDEX at a CPU-only index (e.g. PyTorch's /whl/cpu).
TORCH_SRC=()
[[ -n "${HF_TORCH_INDEX:-}" ]] && TORCH_SRC=(--index-url "$HF_TORCH_INDEX")
step "resolved $TORCH" "${PIP[@]}" --dry-run --report "$DIR/.torch-plan.json" "${TORCH_SRC[@]}" "$TORCH"
if ! "$DIR/bin/python" - "$DIR/.torch-plan.json" <<'PY'
import json, sys
plan = [(i["metadata"]["name"].lower(), i["metadata"]["version"]) for i in json.load(open(sys.argv[1]))["install"]]
sys.exit(1 if any(n.startswith(("nvidia-", "triton", "cuda-")) for n, _ in plan) else 0)  # CUDA runtime wheels
PY
then
  echo "hf venv: pip would install a CUDA build of $TORCH (gigabytes); set HF_TORCH_INDEX to a CPU-only index" >&2
  exit 3  # "no CPU torch here": make test reports the hf tests as skipped instead of failing
fi
rm -f "$DIR/.torch-plan.json"
step "$TORCH (cpu)" "${PIP[@]}" "${TORCH_SRC[@]}" "$TORCH"

# the lock as constraints (pip takes no hashes there): the packages both venvs share are at the same versions
sed -n 's/^\([A-Za-z0-9._-]*==[^ ;]*\).*/\1/p' "$LOCK" > "$DIR/.constraints.txt"
step "$TRANSFORMERS + $DIFFUSERS + pytest" "${PIP[@]}" -c "$DIR/.constraints.txt" "$TRANSFORMERS" "$DIFFUSERS" \
  "${PYTEST[@]}"
step "synthguard (editable, faces extra for the consent gate)" "${PIP[@]}" -c "$DIR/.constraints.txt" -e "$ROOT[faces]"

"$DIR/bin/python" -c "import torch, transformers, diffusers; print(f'hf venv: torch {torch.__version__}, transformers {transformers.__version__}, diffusers {diffusers.__version__}')"
echo "$PINS" > "$STAMP"
echo "hf venv: ready in $((SECONDS - t0)) s ($(du -sh "$DIR" | cut -f1))"
