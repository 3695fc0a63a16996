#!/usr/bin/env bash
# Build llama-cpp-python once for a fixed, portable x86-64 baseline (AVX2/FMA/F16C, no
# AVX-512, no AMX, never -march=native) and keep the wheel in a folder named after the version
# and the flags. pip's own wheel cache is bypassed on purpose: it keys a built wheel on the
# sdist alone, so a wheel compiled natively on one CPU would be reused on another and crash.
# Usage: scripts/llama-wheel.sh PYTHON  -> prints the wheelhouse folder holding the wheel.
set -euo pipefail
python=${1:?usage: llama-wheel.sh PYTHON}
version=${LLAMA_VERSION:-0.3.36}
flags=${LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_BMI2=OFF}
pyver=$("$python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
key=$(printf '%s\n%s\n%s\n%s\n' "$version" "$flags" "$pyver" "$(uname -m)" | sha256sum | cut -c1-12)
root=${AMDLIB_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/amdlib/wheels}
dir="$root/llama-cpp-python-$version-$key"
if ! ls "$dir"/llama_cpp_python-"$version"-*.whl >/dev/null 2>&1; then
  mkdir -p "$root"
  tmp=$(mktemp -d "$root/.build-XXXXXX") && chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  echo "building llama-cpp-python $version for a portable x86-64 baseline (about 10 min on 2 cores)" >&2
  printf '%s\n' "$flags" > "$tmp/CMAKE_ARGS"
  CMAKE_ARGS="$flags" FORCE_CMAKE=1 "$python" -m pip wheel --no-deps --no-cache-dir \
    --no-binary llama-cpp-python -w "$tmp" "llama-cpp-python==$version" >&2
  rm -rf "$dir" && mv "$tmp" "$dir"   # rename into place: a killed build leaves no half wheel
  trap - EXIT
fi
echo "$dir"
