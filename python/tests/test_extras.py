"""Without an optional dependency, the functions that need it say which extra to install.

The missing module is simulated with None in sys.modules (what `import` treats as "not
installed"), so this runs whether or not torch, pandas or Pillow are installed.
"""

import pathlib
import re
import sys
import unittest
from unittest import mock

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _support  # noqa: E402,F401  (puts the package under test first)

import nstudent  # noqa: E402


def declared_extras():
    """The extras' names in python/pyproject.toml's [project.optional-dependencies]."""
    text = (REPO / "python" / "pyproject.toml").read_text()
    section = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    return set(re.findall(r"^(\w+)\s*=", section, flags=re.M))


class MissingExtras(unittest.TestCase):
    def check(self, modules, extra, call):
        self.assertIn(extra, declared_extras())
        with mock.patch.dict(sys.modules, {m: None for m in modules}):
            with self.assertRaises(ImportError) as caught:
                call()
        # A ModuleNotFoundError, so `except ModuleNotFoundError` around the call still works.
        self.assertIsInstance(caught.exception, ModuleNotFoundError)
        message = str(caught.exception)
        self.assertIn(f'pip install "./python[{extra}]"', message)
        # The import error itself is kept as the cause.
        self.assertIsInstance(caught.exception.__cause__, ImportError)

    def test_load_model_without_torch_names_the_torch_extra(self):
        self.check(["torch"], "torch", lambda: nstudent.load_model("model.safetensors"))
        # sys.modules is as it was once the test is done.
        self.assertIsNot(sys.modules.get("torch", "absent"), None)

    def test_read_results_without_pandas_names_the_pandas_extra(self):
        self.check(["pandas"], "pandas", lambda: nstudent.read_results("results"))

    def test_the_estimator_without_scikit_learn_names_the_sklearn_extra(self):
        self.check(["sklearn"], "sklearn", lambda: nstudent.NoisyStudentClassifier)

    def test_read_images_without_pillow_names_the_images_extra(self):
        self.check(["PIL", "PIL.Image"], "images", lambda: nstudent.read_images("images"))


if __name__ == "__main__":
    unittest.main()
