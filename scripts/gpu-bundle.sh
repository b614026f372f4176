#!/usr/bin/env bash
# Builds, on a machine with the package registries (a cluster's login node), a self-contained
# folder that runs nstudent's first GPU check on a GPU node with no network, no cargo and no
# compiler:
#   bin/nstudent.gz     nstudent, stripped and gzipped, built with the GPU features (default:
#                       wgpu); `gzip -dc bin/nstudent.gz > nstudent` for other uses
#   lib/libvulkan.so.1  the Vulkan loader from Debian's libvulkan1 (`apt-get download`), used
#                       only on a node that has none
#   run-gpu-check       the check (scripts/run-gpu-check.sh): `run-gpu-check OUTDIR`
#   bundle.txt          what was built: commit, features, the glibc the binary needs
#   licenses/           the loader's copyright file
# The folder must stay under 60 MiB. Copy it to the GPU node (or a shared file system) and run
#   nstudent-gpu/run-gpu-check OUTDIR        (e.g. srun --gres=gpu:1 nstudent-gpu/run-gpu-check out)
#
# Usage: scripts/gpu-bundle.sh [DIR]      (default: target/gpu-bundle/nstudent-gpu)
# Environment: NSTUDENT_BUNDLE_FEATURES (default wgpu; `cuda` does not build from the registries
# alone, see docs/gpu.md); NSTUDENT_LIBVULKAN=/path/libvulkan.so.1 takes the loader from that
# file instead of `apt-get download` (a machine that is not Debian or Ubuntu).
# A cold build takes 20-30 minutes on 2 cores; later ones reuse target/wgpu.
set -euo pipefail
usage="usage: scripts/gpu-bundle.sh [DIR]   (default: target/gpu-bundle/nstudent-gpu)"
case "${1:-}" in -h | --help)
  echo "$usage"
  exit 0
  ;;
esac
[ $# -le 1 ] || { echo "$usage" >&2; exit 2; }
cd "$(dirname "$0")/.."
root=$(pwd)
dest=${1:-target/gpu-bundle/nstudent-gpu}
features=${NSTUDENT_BUNDLE_FEATURES:-wgpu}
max_mib=60

die() { echo "gpu-bundle: $*" >&2; exit 2; }
[ "$(uname -m)" = x86_64 ] || die "this builds an x86-64 bundle; run it on an x86-64 Linux machine, not $(uname -m)"
command -v cargo >/dev/null || die "cargo is not on PATH; install Rust (https://rustup.rs) on this build machine"
case ",$features," in
*,cuda,*) target_dir=target/gpu-cuda ;;
*) target_dir=target/wgpu ;; # the directory scripts/gpu-check.sh builds into
esac
strip_tool=""
for t in strip objcopy; do command -v $t >/dev/null && { strip_tool=$t; break; }; done
[ -n "$strip_tool" ] || die "neither strip nor objcopy is on PATH; install binutils"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage="$tmp/nstudent-gpu"
mkdir -p "$stage/bin" "$stage/lib" "$stage/licenses"

# 1. The Vulkan loader, first: it needs the registries, and fails fast.
if [ -n "${NSTUDENT_LIBVULKAN:-}" ]; then
  [ -s "$NSTUDENT_LIBVULKAN" ] || die "NSTUDENT_LIBVULKAN=$NSTUDENT_LIBVULKAN is not a file"
  cp -L "$NSTUDENT_LIBVULKAN" "$stage/lib/libvulkan.so.1"
  libvulkan="from $NSTUDENT_LIBVULKAN"
else
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
    die "apt-get and dpkg-deb are needed to fetch Debian's libvulkan1; on another system set NSTUDENT_LIBVULKAN=/path/to/libvulkan.so.1"
  [ "$(dpkg --print-architecture 2>/dev/null || echo amd64)" = amd64 ] || die "apt's architecture is not amd64"
  echo "== the Vulkan loader: apt-get download libvulkan1"
  (cd "$tmp" && apt-get download libvulkan1 >"$tmp/apt.log" 2>&1) ||
    die "apt-get download libvulkan1 failed: $(tail -n 1 "$tmp/apt.log"); run apt-get update, or set NSTUDENT_LIBVULKAN"
  deb=$(ls "$tmp"/libvulkan1_*.deb)
  dpkg-deb -x "$deb" "$tmp/deb"
  lib=$(ls "$tmp"/deb/usr/lib/x86_64-linux-gnu/libvulkan.so.1.* | head -n 1)
  cp "$lib" "$stage/lib/libvulkan.so.1"
  cp "$tmp/deb/usr/share/doc/libvulkan1/copyright" "$stage/licenses/libvulkan1.copyright"
  libvulkan="Debian libvulkan1 $(dpkg-deb -f "$deb" Version) ($(basename "$lib"))"
fi

# 2. nstudent with the GPU features.
echo "== cargo build --release --locked -p nstudent --features $features --target-dir $target_dir"
cargo build --release --locked -p nstudent --features "$features" --target-dir "$target_dir"
if [ $strip_tool = strip ]; then
  strip --strip-all -o "$tmp/nstudent" "$target_dir/release/nstudent"
else
  objcopy --strip-all "$target_dir/release/nstudent" "$tmp/nstudent"
fi
chmod 755 "$tmp/nstudent"
# Stripped, the wgpu build is about 100 MiB (burn, cubecl and wgpu); gzip brings it to about a
# third, and every node has gzip. run-gpu-check unpacks it into a temporary folder.
echo "== gzip -9 bin/nstudent ($(du -m "$tmp/nstudent" | awk '{ print $1 }') MiB stripped)"
gzip -9 -c "$tmp/nstudent" >"$stage/bin/nstudent.gz"
cp scripts/run-gpu-check.sh "$stage/run-gpu-check"
chmod 755 "$stage/run-gpu-check"

# 3. What it is, and the newest glibc symbol version the two ELF files need.
if command -v objdump >/dev/null; then
  glibc_refs() { objdump -T "$tmp/nstudent" "$stage/lib/libvulkan.so.1"; }
else
  glibc_refs() { cat "$tmp/nstudent" "$stage/lib/libvulkan.so.1"; }
fi
glibc_needed=$(glibc_refs | grep -ao 'GLIBC_[0-9][0-9.]*[0-9]' | sed 's/GLIBC_//' |
  sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1)
commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit-dirty"
{
  echo "nstudent=$("$tmp/nstudent" --version)"
  echo "commit=$commit"
  echo "features=$features"
  echo "built_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "built_on=$(uname -n)"
  echo "glibc_needed=$glibc_needed"
  echo "libvulkan=$libvulkan"
} >"$stage/bundle.txt"

size=$(du -sk "$stage" | awk '{ print $1 }')
if [ "$size" -gt $((max_mib * 1024)) ]; then
  die "the bundle is $((size / 1024)) MiB, over the $max_mib MiB limit"
fi
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -r "$stage" "$dest"
echo "== $dest ($(du -sh "$dest" | awk '{ print $1 }'), needs glibc >= $glibc_needed)"
(cd "$dest" && find . -type f | sort | while read -r f; do printf '%10s  %s\n' "$(wc -c <"$f")" "$f"; done)
echo "copy it to the GPU node and run: $dest/run-gpu-check OUTDIR   (no network or cargo needed)"
