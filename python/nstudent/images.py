"""New images read as `nstudent predict --data` reads them, with Pillow (the `images` extra).

The CLI decodes with Rust's `image` crate (crates/nstudent-data/src/read/image_folder.rs and
image_options.rs); this module makes the same choices:

- which files: `.png`, `.jpg`, `.jpeg` (any case); a folder's files directly inside it, in name
  order (bytes of the name), hidden files (`.name`) and `*.part` left out; a list of files in
  the order given;
- colour: one grey channel when every image is grey, otherwise RGB; alpha is dropped, never
  composited; `colour="grey"` / `"rgb"` force one mode (`--grayscale` / `--rgb`); grey from
  colour is luma with the `image` crate's Rec. 709 weights, in its float32 arithmetic;
- size: `resize=(width, height)` resamples each image that is not already that size with the
  `image` crate's triangle (bilinear) filter, re-implemented here in float32 operation for
  operation (Pillow's bilinear filter rounds differently, so it is not used); without it every
  image must have the first one's size.

PNG files therefore decode to the same bytes as in the CLI (tested against `nstudent predict`).
JPEG decoders differ: Pillow uses libjpeg-turbo, the CLI zune-jpeg, and their chroma upsampling
differs, so some pixel values differ by a few levels; docs/results/python-decode/ measures it.
Also not identical: 16-bit PNGs with colour or alpha (Pillow keeps each value's high byte,
the CLI rounds to the nearest 8-bit level: at most 1 level apart; 16-bit grey PNGs are read
whole and match), CMYK JPEGs (converted by Pillow), and grey-from-colour on ARM, where the
CLI's `image` crate fuses multiply-adds. Of the CLI's decoding limits, the side limit
(`MAX_SIDE`) is mirrored, not its 48 MiB cap on a decoder's buffers (which refuses e.g. a
4096x4096 RGBA image).
"""

import os
import pathlib

import numpy as np

from ._extras import require

__all__ = ["read_images", "image_files", "is_image", "IMAGE_EXTENSIONS", "MAX_SIDE"]

#: File extensions read as images (compared without case), as the CLI's `EXTENSIONS`.
IMAGE_EXTENSIONS = ("png", "jpg", "jpeg")

#: The largest width or height decoded, in pixels (the CLI's `MAX_SIDE`).
MAX_SIDE = 4096

# The Rec. 709 luma weights exactly as the `image` crate 0.25 derives them (moxcms's BT.709
# primaries and D65 white point), as float32 bit patterns: 0.21264784, 0.7151792, 0.07217304.
_LUMA = np.array([0x3E59C05B, 0x3F3715FC, 0x3D93CF75], dtype=np.uint32).view(np.float32)

_F32 = np.float32


def _extension(path):
    """The extension of `path`'s file name, as Rust's `Path::extension` finds it: after the
    last dot, unless that dot starts the name; None when there is none."""
    name = pathlib.PurePath(path).name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or name == "..":
        return None
    return ext


def is_image(path):
    """Whether `path` names a file the CLI reads as an image, by its extension (any case)."""
    ext = _extension(os.fspath(path))
    return ext is not None and ext.lower() in IMAGE_EXTENSIONS


def _list(directory, dirs):
    """Files (or folders) of `directory` in name order, hidden ones and `*.part` left out."""
    out = []
    for name in os.listdir(directory):
        if name.startswith(".") or name.endswith(".part"):
            continue
        path = os.path.join(directory, name)
        if os.path.isdir(path) == dirs and (dirs or os.path.isfile(path)):
            out.append(path)
    # Rust sorts the paths, that is the names' bytes.
    out.sort(key=os.fsencode)
    return out


def _holds_images(directory):
    return any(is_image(p) for p in _list(directory, False))


def _is_class_folder(directory):
    """True when `directory` holds subfolders (or sub-subfolders) of images: a labeled
    dataset to the CLI (`looks_like_image_folder`)."""
    return any(_holds_images(d) or any(_holds_images(s) for s in _list(d, True))
               for d in _list(directory, True))


def image_files(data):
    """The image files `predict --data DATA` reads as new images, in its order.

    `data` is a folder holding images directly (its image files in name order), one image file,
    or a list of image files (in the order given). Paths come back as given (joined with the
    folder's path for a folder), as the `file` column of the CLI's CSV shows them. Raises
    ValueError for anything the CLI would read as a dataset instead, e.g. a folder of class
    folders."""
    values = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    paths = [os.fspath(p) for p in values]
    if not paths:
        raise ValueError("no images given: give a folder of images, an image file or a list")
    if len(paths) == 1:
        one = paths[0]
        if os.path.isdir(one):
            if _holds_images(one) and not _is_class_folder(one):
                return _list_images(one)
            raise ValueError(
                f"{one}: not a folder of new images (image files directly inside it, no class "
                "folders); nstudent reads it as a dataset")
        if not (os.path.isfile(one) and is_image(one)):
            raise ValueError(f"{one}: not an image file (.png, .jpg, .jpeg) nor a folder of them")
        return [one]
    for path in paths:
        if not (os.path.isfile(path) and is_image(path)):
            raise ValueError(
                f"{path}: with several paths, each must be an image file (.png, .jpg, .jpeg)")
    return paths


def _list_images(directory):
    return [p for p in _list(directory, False) if is_image(p)]


def _round_half_away(x):
    """Rust's `f32::round` for x >= 0 (numpy rounds halves to even), without the error of
    floor(x + 0.5) just below one half."""
    f = np.floor(x)
    return f + (x - f >= _F32(0.5))


def _weights(src, dst):
    """The `image` crate's triangle-filter taps for `src` -> `dst` samples along one axis, in
    float32: for each output sample, the first input index and the normalised weights."""
    ratio = _F32(src) / _F32(dst)
    sratio = ratio if ratio >= _F32(1) else _F32(1)
    support = _F32(1) * sratio
    taps = []
    for out in range(dst):
        centre = (_F32(out) + _F32(0.5)) * ratio
        left = min(max(int(np.floor(centre - support)), 0), src - 1)
        right = min(max(int(np.ceil(centre + support)), left + 1), src)
        centre = centre - _F32(0.5)
        ws = []
        total = _F32(0)
        for i in range(left, right):
            x = abs((_F32(i) - centre) / sratio)
            w = _F32(1) - x if x < _F32(1) else _F32(0)
            ws.append(w)
            total = _F32(total + w)
        taps.append((left, [_F32(w / total) for w in ws]))
    return taps


def _resample(x, taps, axis):
    """One pass of the crate's separable resampling along `axis` (float32, taps in order)."""
    x = np.moveaxis(x, axis, 0)
    out = np.empty((len(taps),) + x.shape[1:], dtype=np.float32)
    for o, (left, ws) in enumerate(taps):
        acc = np.zeros(x.shape[1:], dtype=np.float32)
        for k, w in enumerate(ws):
            acc = acc + x[left + k] * w
        out[o] = acc
    return np.moveaxis(out, 0, axis)


def _resize(pixels, width, height, max_value):
    """`image::imageops::resize(.., FilterType::Triangle)`: rows first, kept in float32, then
    columns, clamped to [0, max_value] and rounded half away from zero. `pixels` is (H, W) or
    (H, W, C) integers; the result has the same dtype."""
    h, w = pixels.shape[:2]
    x = pixels.astype(np.float32)
    x = _resample(x, _weights(h, height), 0)
    x = _resample(x, _weights(w, width), 1)
    x = _round_half_away(np.clip(x, _F32(0), _F32(max_value)))
    return x.astype(pixels.dtype)


def _unit(pixels, max_value):
    """Integer levels as the crate's float32 in [0, 1] (`v * (1 / MAX)`)."""
    return pixels.astype(np.float32) * (_F32(1) / _F32(max_value))


def _to_u8(x):
    """The crate's float32 -> u8: `(x * 255).round() as u8`, which saturates."""
    return np.clip(_round_half_away(x * _F32(255)), 0, 255).astype(np.uint8)


def _grey8(kind, pixels):
    """One image as u8 grey (H, W), as the crate's `to_luma8`."""
    if kind == "grey8":
        return pixels
    if kind == "grey16":
        # Same channel layout: a plain rounding of v * 255 / 65535.
        return ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
    rgb = _unit(pixels, 255)
    luma = (rgb[..., 0] * _LUMA[0] + rgb[..., 1] * _LUMA[1]) + rgb[..., 2] * _LUMA[2]
    return _to_u8(luma)


def _rgb8(kind, pixels):
    """One image as u8 RGB (H, W, 3), as the crate's `to_rgb8` (grey: the value repeated,
    through the crate's float32 path)."""
    if kind == "rgb8":
        return pixels
    grey = _to_u8(_unit(pixels, 255 if kind == "grey8" else 65535))
    return np.repeat(grey[..., None], 3, axis=2)


def _decode(path, image_module):
    """(kind, pixels) of one file: "grey8" (H, W) u8, "grey16" (H, W) u16 or "rgb8" (H, W, 3)
    u8, alpha dropped. The format follows the extension, as in the CLI."""
    fmt = "PNG" if _extension(path).lower() == "png" else "JPEG"
    try:
        with image_module.open(path, formats=[fmt]) as im:
            w, h = im.size
            if w > MAX_SIDE or h > MAX_SIDE:
                raise ValueError(
                    f"{path}: {w}x{h} is larger than nstudent decodes (at most "
                    f"{MAX_SIDE}x{MAX_SIDE} pixels): shrink the images first")
            mode = im.mode
            # Pillow opens 16-bit grey+alpha PNGs as RGBA (grey repeated); the CLI as grey.
            if mode == "RGBA" and im.tile and im.tile[0][3] == "LA;16B":
                return "grey8", np.asarray(im)[..., 0].copy()
            if mode == "1":
                return "grey8", np.asarray(im.convert("L"))
            if mode == "L":
                return "grey8", np.asarray(im)
            if mode in ("LA", "La"):
                return "grey8", np.asarray(im)[..., 0].copy()
            if mode.startswith("I;16") or mode == "I":
                return "grey16", np.asarray(im).astype(np.uint16)
            if mode == "RGB":
                return "rgb8", np.asarray(im)
            if mode in ("RGBA", "RGBX", "RGBa"):
                return "rgb8", np.asarray(im)[..., :3].copy()
            # Palette PNGs expand to RGB in the CLI too; CMYK and others go through Pillow.
            return "rgb8", np.asarray(im.convert("RGB"))
    except (OSError, SyntaxError, image_module.DecompressionBombError) as e:
        raise ValueError(
            f"{path}: cannot decode the image ({e}): the file is corrupt or not a PNG/JPEG") from e


def _parse_resize(resize):
    if resize is None:
        return None
    if isinstance(resize, str):
        w, sep, h = resize.lower().partition("x")
        if not sep:
            raise ValueError(f"resize {resize!r}: write WIDTHxHEIGHT, e.g. 32x32")
        resize = (int(w), int(h))
    w, h = (int(v) for v in resize)
    if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
        raise ValueError(f"resize {resize}: width and height must be 1 to {MAX_SIDE} pixels")
    return w, h


def read_images(data, resize=None, colour=None):
    """Images as `nstudent predict --data DATA` decodes them, for `predict_numpy`.

    `data`: a folder of images (no class folders; its `.png`/`.jpg`/`.jpeg` files in name
    order), one image file, or a list of image files (in the order given).
    `resize`: `(width, height)` in pixels or `"WxH"`, as `--resize WxH` (triangle filter).
    `colour`: None (grey when every image is grey, else RGB), `"grey"` or `"rgb"`, as
    `--grayscale` / `--rgb`.

    Returns `(images, files)`: uint8 pixels (0-255) of shape `(N, H, W, 3)`, or `(N, H, W)` for
    grey, and the N file paths in the same order (the CLI's `file` column). Raises ValueError
    for data the CLI would not read as new images, images of different sizes without `resize`,
    or files that do not decode; ImportError without Pillow (`pip install "./python[images]"`).
    """
    if colour not in (None, "grey", "gray", "rgb"):
        raise ValueError(f"colour {colour!r}: use None, 'grey' or 'rgb'")
    size = _parse_resize(resize)
    image_module = require("PIL.Image", "images", "read_images", package="Pillow")
    files = image_files(data)
    decoded = []
    for path in files:
        kind, pixels = _decode(path, image_module)
        h, w = pixels.shape[:2]
        if size is not None and (w, h) != size:
            pixels = _resize(pixels, size[0], size[1], 65535 if kind == "grey16" else 255)
        decoded.append((path, kind, pixels))
    grey = colour in ("grey", "gray") or (colour is None
                                           and all(k != "rgb8" for _, k, _ in decoded))
    first, (h0, w0) = files[0], decoded[0][2].shape[:2]
    out = np.empty((len(files), h0, w0) + (() if grey else (3,)), dtype=np.uint8)
    for i, (path, kind, pixels) in enumerate(decoded):
        h, w = pixels.shape[:2]
        if (h, w) != (h0, w0):
            raise ValueError(
                f"{path} is {w}x{h} (width x height) but {first} is {w0}x{h0}: resize all "
                "images to one size (resize=(W, H))")
        out[i] = _grey8(kind, pixels) if grey else _rgb8(kind, pixels)
    return out, files
