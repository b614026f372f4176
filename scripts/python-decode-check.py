#!/usr/bin/env python3
"""How far the Python package's image reading is from the CLI's, on real files (JPEGs above all).

`nstudent.read_images` decodes with Pillow (libjpeg-turbo for JPEG); `nstudent predict` with
Rust's `image` crate (zune-jpeg). PNG decodes to the same bytes (python/tests/test_images.py);
JPEG decoders may round differently. This script runs both on the same files and prints:

- the number of images and their shape;
- pixels: the CLI reader's bytes against read_images': max |difference| in levels (0-255),
  the fraction of values that differ, and a histogram of the differences;
- probabilities: `nstudent predict` against `predict_numpy` on read_images, max and mean
  |difference|, and how many images' predicted class (argmax) differs;
- as a reference, `predict_numpy` on the CLI reader's own bytes against `nstudent predict`: the
  difference the two forward passes alone make.

The CLI's bytes come from scripts/decode-pixels.rs, which calls the CLI's reader function; the
script compiles it with `rustc` against the `nstudent_data` library that a release build leaves in
target/release/deps (a second or two, no cargo). Without it, the pixel lines say why they are
missing and the probability lines still print.

With --synthetic, no model: PNG files written here that cover every case the loader handles
(all 2^24 RGB colours to grey, every 16-bit grey level, 1- to 16-bit grey, alpha, palettes,
mixed colour modes, up- and downscaling) are compared byte for byte, one line per case.

Usage (from the repository root, with the package's `images` extra installed):
  python scripts/python-decode-check.py --model MODEL [--data DIR] [--per-folder N]
      [--resize WxH] [--grayscale | --rgb]
  python scripts/python-decode-check.py --synthetic
DIR is a folder of images or a folder of class folders (default: the CIFAR-10 JPEG copy's test
split, ../shared/datasets/cifar-10-jpeg/test); the first N files in name order of it, or of each
class folder, are read (default 100).
"""

import argparse
import csv
import glob
import os
import pathlib
import re
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))

import nstudent  # noqa: E402


def chosen_files(data, per_folder):
    """The first `per_folder` image files (name order, as the CLI lists a folder) of `data`, or
    of each of its class folders in name order; and a description of the choice."""
    try:
        files = nstudent.image_files(data)
        return files[:per_folder], f"first {per_folder} in name order of {data}"
    except ValueError:
        pass
    # glob leaves hidden entries out, as the CLI does.
    folders = sorted((d for d in glob.glob(os.path.join(data, "*")) if os.path.isdir(d)),
                     key=os.fsencode)
    files = []
    for d in folders:
        try:
            files += nstudent.image_files(d)[:per_folder]
        except ValueError:  # a folder without images of its own
            continue
    return files, (f"first {per_folder} in name order of each of the {len(folders)} class "
                   f"folders of {data}")


def decoder_versions():
    """The versions of the `image` crate and of its PNG and JPEG decoders in Cargo.lock (the
    CLI's build), as {name: version}."""
    text = (REPO / "Cargo.lock").read_text()
    packages = [dict(re.findall(r'^(name|version) = "([^"]+)"', block, flags=re.M))
                | {"deps": re.findall(r'^ "([^"]+)",', block, flags=re.M)}
                for block in text.split("[[package]]")[1:]]
    image = next(p for p in packages if p.get("name") == "image")
    versions = {"image": image["version"]}
    for dep in image["deps"]:
        name, _, version = dep.partition(" ")
        if name in ("png", "zune-jpeg"):
            versions[name] = version or next(p["version"] for p in packages
                                             if p.get("name") == name)
    return versions


def cli_probabilities(binary, model, files, options, tmp):
    """`nstudent predict` on the files: (class names, file column, probabilities (N, K))."""
    out = os.path.join(tmp, "predict.csv")
    run = subprocess.run([binary, "predict", "--model", model, "--data", *files, *options,
                          "--out", out], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"nstudent predict failed: {run.stderr.strip()}")
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0][1:], [r[0] for r in rows[1:]], np.array([r[1:] for r in rows[1:]],
                                                            dtype=np.float64)


def build_helper(tmp, rlib_dir):
    """scripts/decode-pixels.rs compiled into `tmp`: (path, None), or (None, why not)."""
    rlibs = sorted(glob.glob(os.path.join(rlib_dir, "libnstudent_data-*.rlib")),
                   key=os.path.getmtime)
    if not rlibs:
        return None, f"no libnstudent_data-*.rlib in {rlib_dir}: run cargo build --release first"
    helper = os.path.join(tmp, "decode-pixels")
    build = subprocess.run(
        ["rustc", "--edition", "2021", "-O", "-o", helper,
         str(REPO / "scripts" / "decode-pixels.rs"), "-L", f"dependency={rlib_dir}",
         "--extern", f"nstudent_data={rlibs[-1]}"],
        capture_output=True, text=True)
    if build.returncode != 0:
        return None, f"rustc could not build scripts/decode-pixels.rs: {build.stderr.strip()[:300]}"
    return helper, None


def cli_pixels(helper, files, options, tmp):
    """The bytes the CLI's reader decodes from `files` with `options`, (N, H, W, C) uint8."""
    out = os.path.join(tmp, "pixels.bin")
    run = subprocess.run([helper, out, *options, *files], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"decode-pixels failed: {run.stderr.strip()}")
    n, h, w, c = map(int, run.stdout.split())
    return np.fromfile(out, dtype=np.uint8).reshape(n, h, w, c)


def write_png(path, pixels, bit_depth, colour_type):
    """A PNG of integer `pixels` (H, W[, C]) at any bit depth Pillow cannot write (2-bit grey,
    16-bit colour): colour type 0 grey, 2 RGB, 4 grey+alpha, 6 RGBA; no filtering."""
    h, w = pixels.shape[:2]
    rows = pixels.reshape(h, -1)
    if bit_depth == 16:
        data = b"".join(b"\0" + r.astype(">u2").tobytes() for r in rows)
    else:
        per_byte = 8 // bit_depth
        packed = []
        for r in rows.astype(np.uint8):
            r = np.concatenate([r, np.zeros(-len(r) % per_byte, np.uint8)]).reshape(-1, per_byte)
            shifts = 8 - bit_depth * np.arange(1, per_byte + 1)
            packed.append(b"\0" + np.bitwise_or.reduce(r << shifts, axis=1).astype(np.uint8)
                          .tobytes())
        data = b"".join(packed)

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n"
                + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, colour_type, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b""))
    return path


def synthetic(helper, tmp):
    """Byte-for-byte comparison on written PNGs; one line per case."""
    from PIL import Image

    rng = np.random.default_rng(0)

    def case(name, files, options=(), resize=None, colour=None):
        want = cli_pixels(helper, files, list(options), tmp)
        got, _ = nstudent.read_images(files, resize=resize, colour=colour)
        got = got[..., None] if got.ndim == 3 else got
        label = " ".join([name, *options])
        if got.shape != want.shape:
            print(f"{label}: shapes differ, read_images {got.shape}, CLI {want.shape}")
            return
        diff = np.abs(got.astype(np.int32) - want)
        print(f"{label}: {want.shape[0]} images {'x'.join(map(str, want.shape[1:]))} (HxWxC), "
              f"{np.count_nonzero(diff)} of {diff.size} values differ, max {diff.max()}")

    def path(name):
        return os.path.join(tmp, name)

    every = np.arange(1 << 24, dtype=np.uint32)
    every = np.stack([every >> 16, (every >> 8) & 255, every & 255], axis=-1).astype(np.uint8)
    Image.fromarray(every.reshape(4096, 4096, 3)).save(path("every-rgb.png"), compress_level=1)
    case("every RGB colour", [path("every-rgb.png")], ["--grayscale"], colour="grey")
    os.remove(path("every-rgb.png"))
    levels16 = write_png(path("grey16.png"), np.arange(65536).reshape(256, 256), 16, 0)
    case("every 16-bit grey level", [levels16])
    case("every 16-bit grey level", [levels16], ["--rgb"], colour="rgb")
    levels8 = write_png(path("grey8.png"), np.arange(256).reshape(16, 16), 8, 0)
    case("every 8-bit grey level", [levels8], ["--rgb"], colour="rgb")
    for bits in (1, 2, 4):
        case(f"{bits}-bit grey", [write_png(path(f"grey{bits}.png"),
                                            rng.integers(0, 1 << bits, (16, 16)), bits, 0)])
    mixed = [write_png(path("rgba.png"), rng.integers(0, 256, (16, 16, 4)), 8, 6),
             write_png(path("la.png"), rng.integers(0, 256, (16, 16, 2)), 8, 4),
             write_png(path("rgb.png"), rng.integers(0, 256, (16, 16, 3)), 8, 2), levels8]
    Image.fromarray(rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)).convert(
        "P", palette=Image.ADAPTIVE, colors=50).save(path("palette.png"))
    mixed.append(path("palette.png"))
    case("RGBA, grey+alpha, RGB, grey, palette", mixed)
    case("RGBA, grey+alpha, RGB, grey, palette", mixed, ["--grayscale"], colour="grey")
    case("grey+alpha and grey", mixed[1::2])
    sizes = [(37, 23), (10, 50), (5, 7), (64, 64), (33, 32), (100, 3)]
    kinds = {"RGB": (3, 8, 2, 256), "RGBA": (4, 8, 6, 256), "grey": (None, 8, 0, 256),
             "16-bit grey": (None, 16, 0, 65536)}
    for kind, (channels, bits, colour_type, high) in kinds.items():
        files = [write_png(path(f"{kind}-{w}x{h}.png"),
                           rng.integers(0, high, (h, w) + ((channels,) if channels else ())),
                           bits, colour_type) for w, h in sizes]
        for w, h in [(32, 32), (24, 16), (7, 9)]:
            for flag, colour in ((None, None), ("--grayscale", "grey"), ("--rgb", "rgb")):
                case(f"{kind}, 6 sizes from 3x100 to 64x64", files,
                     ["--resize", f"{w}x{h}"] + ([flag] if flag else []), (w, h), colour)
    for name, colour_type, channels in (("16-bit grey+alpha", 4, 2), ("16-bit RGB", 2, 3)):
        f = write_png(path(f"{name}.png"), rng.integers(0, 65536, (16, 16, channels)), 16,
                      colour_type)
        case(f"{name} (known: Pillow keeps the high byte)", [f])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a model file or ensemble directory")
    parser.add_argument("--synthetic", action="store_true",
                        help="compare bytes on PNGs written here instead (no model)")
    parser.add_argument("--data", default=os.path.relpath(
        REPO.parent / "shared" / "datasets" / "cifar-10-jpeg" / "test"))
    parser.add_argument("--per-folder", type=int, default=100)
    parser.add_argument("--resize", help="WxH, as predict --resize")
    colour = parser.add_mutually_exclusive_group()
    colour.add_argument("--grayscale", action="store_true")
    colour.add_argument("--rgb", action="store_true")
    parser.add_argument("--bin", default=os.environ.get(
        "NSTUDENT_BIN", str(REPO / "target" / "release" / "nstudent")))
    parser.add_argument("--rlib-dir", default=str(REPO / "target" / "release" / "deps"))
    args = parser.parse_args()
    if args.synthetic:
        with tempfile.TemporaryDirectory() as tmp:
            helper, why = build_helper(tmp, args.rlib_dir)
            if helper is None:
                sys.exit(why)
            synthetic(helper, tmp)
        return
    if not args.model:
        parser.error("--model is required (or --synthetic)")

    options = []
    if args.resize:
        options += ["--resize", args.resize]
    if args.grayscale:
        options.append("--grayscale")
    if args.rgb:
        options.append("--rgb")
    files, chosen = chosen_files(args.data, args.per_folder)
    if not files:
        sys.exit(f"{args.data}: no images")

    from PIL import Image, features

    with tempfile.TemporaryDirectory() as tmp:
        classes, cli_files, want = cli_probabilities(args.bin, args.model, files, options, tmp)
        images, py_files = nstudent.read_images(
            files, resize=args.resize,
            colour="grey" if args.grayscale else "rgb" if args.rgb else None)
        helper, why = build_helper(tmp, args.rlib_dir)
        reference = None if helper is None else cli_pixels(helper, files, options, tmp)

    if cli_files != py_files:
        sys.exit("the CLI's file column and read_images' files differ")
    got = nstudent.predict_numpy(args.model, images)
    shape = images.shape[1:] + ((1,) if images.ndim == 3 else ())
    print(f"images: {len(files)} ({chosen}), {'x'.join(map(str, shape))} (HxWxC)"
          + (f", options {' '.join(options)}" if options else ""))
    print("CLI: nstudent predict, " + ", ".join(f"{k} {v}" for k, v in decoder_versions().items())
          + " (Cargo.lock)")
    print(f"Python: read_images, Pillow {Image.__version__}, libjpeg-turbo "
          f"{features.version('libjpeg_turbo') or '?'}, numpy {np.__version__}")
    if reference is None:
        print(f"pixels: not measured ({why})")
    else:
        ref = reference.reshape(images.shape)
        diff = np.abs(ref.astype(np.int16) - images.astype(np.int16))
        levels, counts = np.unique(diff, return_counts=True)
        print(f"pixels: max |difference| {diff.max()} levels (of 255); {np.count_nonzero(diff)} "
              f"of {diff.size} values differ ({np.count_nonzero(diff) / diff.size:.2%}); "
              f"mean |difference| {diff.mean():.4f} levels; images with any difference: "
              f"{np.count_nonzero(diff.reshape(len(diff), -1).max(axis=1))} of {len(diff)}")
        print("pixels: |difference| histogram: "
              + ", ".join(f"{int(l)}: {int(c)}" for l, c in zip(levels, counts)))
        same = np.abs(nstudent.predict_numpy(args.model, ref) - want)
        print(f"reference: numpy on the CLI reader's bytes vs nstudent predict: max |dp| "
              f"{same.max():.3g} (the forward passes alone)")
    dp = np.abs(got - want)
    flips = np.count_nonzero(got.argmax(axis=1) != want.argmax(axis=1))
    print(f"probabilities: nstudent predict vs predict_numpy(read_images): max |dp| "
          f"{dp.max():.3g}, mean |dp| {dp.mean():.3g}")
    print(f"predicted classes that flip: {flips} of {len(files)}")
    # Files in class folders named as the model's classes have labels: accuracy both ways.
    folders = [os.path.basename(os.path.dirname(f)) for f in files]
    if all(name in classes for name in folders):
        labels = np.array([classes.index(name) for name in folders])
        print(f"accuracy (labels from the class folders): nstudent predict "
              f"{np.mean(want.argmax(axis=1) == labels):.4f}, predict_numpy(read_images) "
              f"{np.mean(got.argmax(axis=1) == labels):.4f}")


if __name__ == "__main__":
    main()
