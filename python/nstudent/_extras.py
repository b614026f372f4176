"""Optional dependencies: an ImportError that says which extra of the package to install."""

import importlib


def require(module, extra, needed_by, package=None):
    """`module` imported, or ModuleNotFoundError (an ImportError) naming the pip extra that
    brings it, e.g. `pip install "./python[torch]"`; the original error is its cause.
    `package` is the name to show when it is not the module's (Pillow for PIL)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        shown = package or module.split(".")[0]
        raise ModuleNotFoundError(
            f'{needed_by} needs {shown}, which is not installed: '
            f'pip install "./python[{extra}]" (from the nstudent repository root)',
            name=module,
        ) from e
