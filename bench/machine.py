"""The machine reference every benchmark records: these machines are shared, and their speed
changes by a factor of two from one hour to the next, so figures from different runs are compared
through it (and code only by alternating runs)."""
from __future__ import annotations

import time

import numpy as np


def machine_reference() -> dict:
    """Seconds for fixed work: a pure-Python loop (dict and attribute traffic like the per-item
    code) and a numpy sort of 4M floats. Best of three: the least disturbed run."""
    def py_loop():
        d = {}
        for i in range(1_000_000):
            d[i & 4095] = d.get(i & 4095, 0) + i
        return d

    x = np.random.default_rng(0).random(4_000_000)
    py, npy = [], []
    for _ in range(3):
        w = time.perf_counter()
        py_loop()
        py.append(time.perf_counter() - w)
        w = time.perf_counter()
        np.sort(x)
        npy.append(time.perf_counter() - w)
    return {"ref_python_loop_s": round(min(py), 4), "ref_numpy_sort_s": round(min(npy), 4)}
