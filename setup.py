"""The scorer's three C modules: reading item dicts (scoring/_itemread.c), finding items by
(site, id) (scoring/_idtable.c) and searching each person's reach (scoring/_reach.c). Everything
else is in pyproject.toml.

All are optional: without a C compiler or Python's headers the install goes on, and the scorer
does the same work in Python and numpy (the same results; a large load takes about 1.6 times as
long, and a full rescore's reach search about 30 times, docs/scoring.md sections 4 and 8)."""
from setuptools import Extension, setup

setup(ext_modules=[Extension(f"scoring.{name}", [f"scoring/{name}.c"], depends=["scoring/_cshared.h"], optional=True,
                             extra_compile_args=["-O2"])
                   for name in ("_itemread", "_idtable", "_reach")])
