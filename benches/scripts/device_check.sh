#!/usr/bin/env bash
# The GPU device check of novacron-gpu-compute: one run, end to end, on a
# machine with a real GPU (the project's device machine, an H200).
#
# Prepare here (the device machine has no Rust toolchain and no internet):
#   cargo build --profile bench --example gpu_check
#   mkdir -p .devcheck && cp target/release/examples/gpu_check .devcheck/ && strip .devcheck/gpu_check
#   (optional) the Vulkan loader as .gl/*.deb, see ../.library/device/README.md
# Run there, carrying .devcheck (and .gl):
#   bash benches/scripts/device_check.sh        # writes $OUT/gpu_check.json, $OUT/device_check.log
# Check it here on Mesa's lavapipe first:
#   GPU_CHECK_ARGS="--software --quick" OUT=/tmp/devcheck bash benches/scripts/device_check.sh
#
# Diagnostics come before any benchmark, so a run that finds no NVIDIA
# adapter still says which library or driver manifest is missing.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/device_check}
mkdir -p "$OUT"
exec > >(tee "$OUT/device_check.log") 2>&1
BIN=${GPU_CHECK_BIN:-.devcheck/gpu_check}
[ -x "$BIN" ] || BIN=target/release/examples/gpu_check

echo "== system"
ldd --version 2>&1 | head -1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || echo "nvidia-smi: not available"
for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d; do
  [ -d "$d" ] && { echo "$d:"; ls "$d"; }
done
ldconfig -p | grep -E 'libvulkan\.so|libEGL_nvidia|libGLX_nvidia|libnvidia-gpucomp' || echo "no Vulkan loader or NVIDIA GL libraries in ldconfig"

# The Vulkan loader, when the machine lacks it and .gl/ carries Debian's.
if ! ldconfig -p | grep -q 'libvulkan\.so\.1' && ls .gl/*.deb >/dev/null 2>&1; then
  echo "== unpacking the carried Vulkan loader"
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi

# An NVIDIA driver manifest, when none is installed where the loader looks.
if ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] \
      && export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  elif ldconfig -p | grep -q libEGL_nvidia.so.0; then
    icd=$(mktemp -d)/nvidia_icd.json
    echo '{"file_format_version":"1.0.0","ICD":{"library_path":"libEGL_nvidia.so.0","api_version":"1.3.0"}}' >"$icd"
    export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
  fi
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
chmod 700 "$XDG_RUNTIME_DIR"

echo "== gpu_check ($BIN ${GPU_CHECK_ARGS:-})"
if [ ! -x "$BIN" ]; then
  echo "no gpu_check binary: build it with cargo build --profile bench --example gpu_check"
  exit 1
fi
# shellcheck disable=SC2086
timeout 480 "$BIN" --out "$OUT" ${GPU_CHECK_ARGS:-}
status=$?
echo "== done (exit $status); results in $OUT/gpu_check.json"
exit $status
