"""Package layout: three source roots mapped into the one ``wavediff`` namespace.

Everything else (metadata, dependencies, extras, package data) is in pyproject.toml. The sub-packages
are found here rather than listed, so that every room (``modalities/<room>/``, its sub-packages) and
every data module ends up in the wheel.
"""

from setuptools import find_packages, setup

ROOTS = {"wavediff": "src/wavediff", "wavediff.modalities": "modalities", "wavediff.datasets": "datasets"}

packages = []
for prefix, root in ROOTS.items():
    packages += [prefix, *(f"{prefix}.{name}" for name in find_packages(root))]

setup(packages=packages, package_dir=ROOTS)
