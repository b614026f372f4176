"""read_images against `nstudent predict --data` on PNG files the test writes.

PNG decoding is lossless in both Pillow and Rust's `image` crate, so the pixels, hence the
probabilities (numpy vs the CLI, to 1e-5 as in test_predict), the image order and the `file`
column must match. JPEG decoders differ and are measured instead (scripts/python-decode-check.py).

Needs numpy, safetensors, Pillow (the `images` extra) and a built nstudent
(`target/release/nstudent`, or $NSTUDENT_BIN). Run from the repository root:
python -m unittest discover python/tests
"""

import csv
import os
import pathlib
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _support  # noqa: E402,F401  (puts the package under test first)

import nstudent  # noqa: E402
import test_predict as helpers  # noqa: E402  (its training data and CLI helpers)


def cli_predict(model, data, out, *extra):
    """`nstudent predict` on new images: (file column, probabilities)."""
    helpers.nstudent_cli("predict", "--model", str(model), "--data", *map(str, data),
                         "--out", str(out), *extra)
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    if rows[0][0] != "file":
        raise AssertionError(f"expected a `file` column, got {rows[0]}")
    return [r[0] for r in rows[1:]], helpers.predicted(out)


def save(path, pixels, mode=None):
    """Writes uint8 (or uint16) pixels as a PNG; returns its path as a string."""
    Image.fromarray(pixels, mode).save(path) if mode else Image.fromarray(pixels).save(path)
    return str(path)


class ReadImagesAsPredict(unittest.TestCase):
    """Tiny models trained by the CLI (8x8 RGB and grey), then PNG folders predicted both ways."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(helpers.BIN):
            raise AssertionError(f"no nstudent at {helpers.BIN}: cargo build --release")
        cls.dir = tempfile.TemporaryDirectory()
        tmp = pathlib.Path(cls.dir.name)
        cls.models = {}
        for name, shape in (("rgb", (8, 8, 3)), ("grey", (8, 8, 1))):
            data = tmp / f"{name}.csv"
            helpers.images_csv(data, 240, shape, 4, seed=3)
            model = tmp / f"{name}.safetensors"
            helpers.nstudent_cli("train", "--data", str(data), "--shape", "x".join(map(str, shape)),
                                 "--algo", "baseline", "--epochs", "3", "--teacher-factor", "0.5",
                                 "--threads", "1", "--out", str(model))
            cls.models[name] = model

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def setUp(self):
        self.tmp_dir = tempfile.TemporaryDirectory()
        self.tmp = pathlib.Path(self.tmp_dir.name)
        self.rng = np.random.default_rng(7)

    def tearDown(self):
        self.tmp_dir.cleanup()

    def pixels(self, h, w, c=None, high=256, dtype=np.uint8):
        shape = (h, w) if c is None else (h, w, c)
        return self.rng.integers(0, high, size=shape).astype(dtype)

    def agree(self, model, data, extra=(), **options):
        """read_images + predict_numpy equal `nstudent predict` (same files, same order, same
        probabilities); returns the images."""
        images, files = nstudent.read_images(data, **options)
        self.assertEqual(images.dtype, np.uint8)
        self.assertEqual(len(images), len(files))
        paths = data if isinstance(data, list) else [data]
        cli_files, want = cli_predict(self.models[model], paths, self.tmp / "p.csv", *extra)
        self.assertEqual(files, cli_files)
        got = nstudent.predict_numpy(str(self.models[model]), images)
        diff = np.abs(got - want).max()
        self.assertLess(diff, 1e-5, f"max |numpy on read_images - nstudent predict| = {diff}")
        # The tolerance sees a single level: one value of each image moved by one level moves
        # the probabilities by more than 1e-5.
        nudged = images.reshape(len(images), -1).copy()
        middle = nudged.shape[1] // 2
        nudged[:, middle] = np.where(nudged[:, middle] < 255, nudged[:, middle] + 1, 254)
        moved = nstudent.predict_numpy(str(self.models[model]), nudged.reshape(images.shape))
        self.assertGreater(np.abs(moved - want).max(), 1e-5)
        return images

    def test_a_folder_of_colour_pngs_reads_in_predicts_order_with_its_pixels(self):
        folder = self.tmp / "new"
        folder.mkdir()
        # Name order is byte order: upper case first, a10 before a9; the extension's case is free.
        save(folder / "b.png", self.pixels(8, 8, 3))
        save(folder / "a9.png", self.pixels(8, 8, 3))
        save(folder / "a10.PNG", self.pixels(8, 8, 4), "RGBA")  # alpha is dropped
        save(folder / "Z.png", self.pixels(8, 8))  # grey among colour: repeated in R, G, B
        Image.fromarray(self.pixels(8, 8, 3)).convert("P", palette=Image.ADAPTIVE).save(
            folder / "p.png")
        # Not read: hidden files, partial downloads, other files, a folder without images.
        save(folder / ".hidden.png", self.pixels(8, 8, 3))
        (folder / "c.png.part").write_bytes(b"")
        (folder / "notes.txt").write_text("not an image")
        (folder / "empty").mkdir()
        images = self.agree("rgb", str(folder))
        self.assertEqual(images.shape, (5, 8, 8, 3))
        self.assertEqual([os.path.basename(f) for f in nstudent.image_files(str(folder))],
                         ["Z.png", "a10.PNG", "a9.png", "b.png", "p.png"])
        # The grey image is the same value in every channel.
        z = np.asarray(Image.open(folder / "Z.png"))
        np.testing.assert_array_equal(images[0], np.repeat(z[..., None], 3, axis=2))

    def test_grey_pngs_read_as_one_channel(self):
        folder = self.tmp / "grey"
        folder.mkdir()
        save(folder / "l.png", self.pixels(8, 8))
        save(folder / "la.png", self.pixels(8, 8, 2), "LA")
        Image.fromarray(self.pixels(8, 8, high=2) * 255).convert("1").save(folder / "bits.png")
        save(folder / "deep.png", self.pixels(8, 8, high=65536, dtype=np.uint16))  # 16-bit
        images = self.agree("grey", str(folder))
        self.assertEqual(images.shape, (4, 8, 8))

    def test_resize_and_grayscale_follow_the_cli_options(self):
        files = [save(self.tmp / "wide.png", self.pixels(5, 13, 3)),
                 save(self.tmp / "tall.png", self.pixels(20, 6, 4), "RGBA"),
                 save(self.tmp / "small.png", self.pixels(3, 3)),
                 save(self.tmp / "same.png", self.pixels(8, 8, 3)),
                 save(self.tmp / "deep.png", self.pixels(11, 9, high=65536, dtype=np.uint16))]
        # A list of files keeps its order.
        grey = self.agree("grey", files, ("--resize", "8x8", "--grayscale"),
                          resize=(8, 8), colour="grey")
        self.assertEqual(grey.shape, (5, 8, 8))
        rgb = self.agree("rgb", files, ("--resize", "8x8"), resize="8x8")
        self.assertEqual(rgb.shape, (5, 8, 8, 3))
        # --rgb turns grey images into three channels.
        self.agree("rgb", [files[2], files[4]], ("--resize", "8x8", "--rgb"), resize=(8, 8),
                   colour="rgb")

    def test_one_image_file(self):
        path = save(self.tmp / "one.png", self.pixels(8, 8, 3))
        images = self.agree("rgb", path)
        self.assertEqual(images.shape, (1, 8, 8, 3))

    def test_jpeg_and_png_files_are_listed_as_predict_lists_them(self):
        folder = self.tmp / "mixed"
        folder.mkdir()
        for name in ["c.jpeg", "a.JPG", "b.png", "d.Jpeg", "e.gif", "f.bmp"]:
            fmt = {"png": "PNG", "gif": "GIF", "bmp": "BMP"}.get(name.split(".")[1].lower(), "JPEG")
            Image.fromarray(self.pixels(8, 8, 3)).save(folder / name, fmt)
        files, _ = cli_predict(self.models["rgb"], [folder], self.tmp / "p.csv")
        self.assertEqual(nstudent.image_files(str(folder)), files)
        self.assertEqual([os.path.basename(f) for f in files],
                         ["a.JPG", "b.png", "c.jpeg", "d.Jpeg"])


class ReadImagesRefuses(unittest.TestCase):
    """What the CLI would not read as new images is refused with a ValueError that says why."""

    def setUp(self):
        self.tmp_dir = tempfile.TemporaryDirectory()
        self.tmp = pathlib.Path(self.tmp_dir.name)

    def tearDown(self):
        self.tmp_dir.cleanup()

    def test_a_folder_of_class_folders_is_a_dataset(self):
        (self.tmp / "cat").mkdir()
        save(self.tmp / "cat" / "1.png", np.zeros((4, 4), np.uint8))
        with self.assertRaisesRegex(ValueError, "dataset"):
            nstudent.read_images(str(self.tmp))

    def test_images_of_different_sizes_need_resize(self):
        save(self.tmp / "a.png", np.zeros((4, 4), np.uint8))
        save(self.tmp / "b.png", np.zeros((4, 5), np.uint8))
        with self.assertRaisesRegex(ValueError, "resize"):
            nstudent.read_images(str(self.tmp))
        images, _ = nstudent.read_images(str(self.tmp), resize=(4, 4))
        self.assertEqual(images.shape, (2, 4, 4))

    def test_empty_folders_other_files_and_undecodable_images(self):
        with self.assertRaises(ValueError):
            nstudent.read_images(str(self.tmp))
        (self.tmp / "x.txt").write_text("text")
        with self.assertRaises(ValueError):
            nstudent.read_images(str(self.tmp / "x.txt"))
        with self.assertRaises(ValueError):
            nstudent.read_images([])
        # The extension decides the format, as in the CLI: a JPEG named .png does not decode.
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(self.tmp / "j.png", "JPEG")
        with self.assertRaisesRegex(ValueError, "cannot decode"):
            nstudent.read_images(str(self.tmp / "j.png"))

    def test_bad_options(self):
        with self.assertRaises(ValueError):
            nstudent.read_images(str(self.tmp), colour="cmyk")
        with self.assertRaises(ValueError):
            nstudent.read_images(str(self.tmp), resize=(0, 4))


if __name__ == "__main__":
    unittest.main()
