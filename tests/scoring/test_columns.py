"""columns.distinct and unique_inverse give numpy's np.unique, by marking or by sorting."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scoring.columns import distinct, unique_inverse

_INTS = st.one_of(
    hnp.arrays(np.int64, st.integers(0, 200), elements=st.integers(0, 50)),  # few values: marked
    hnp.arrays(np.int64, st.integers(0, 50), elements=st.integers(-3, 10**12)),  # negative or far apart: sorted
    hnp.arrays(np.int32, st.integers(0, 50), elements=st.integers(0, 400)),
)


@given(_INTS)
def test_distinct_and_unique_inverse_are_np_unique(x):
    want, want_inv = np.unique(x, return_inverse=True)
    got, inv = unique_inverse(x)
    assert got.dtype == want.dtype and got.tolist() == want.tolist()
    assert inv.tolist() == want_inv.tolist()
    d = distinct(x)
    assert d.dtype == want.dtype and d.tolist() == want.tolist()
