"""The compiled reader (scoring/_itemread.c). Everything else is in pyproject.toml.

It is optional: without a C compiler or Python's headers the install goes on, and the scorer
reads items in Python (the same results, about a second slower per million items)."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("scoring._itemread", ["scoring/_itemread.c"], optional=True,
                             extra_compile_args=["-O2"])])
