"""One BLAS thread while an analysis runs.

The statistics here are many small dense problems (statsmodels fits a 1,500 × 25 regression per ADF lag
candidate; PCA and the solvers work on matrices of a few dozen columns). OpenBLAS splits even those
across threads, and on a busy two-core machine the threads wait on each other: an SVD that takes 0.6 ms
on one thread took 8 ms on two. One thread is never slower at these sizes, so every public analysis runs
under this limit (process-wide while it runs, restored after).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from threadpoolctl import threadpool_limits

F = TypeVar("F", bound=Callable)


def one_blas_thread(function: F) -> F:
    @functools.wraps(function)
    def limited(*arguments, **keywords):
        with threadpool_limits(limits=1, user_api="blas"):
            return function(*arguments, **keywords)

    return limited  # type: ignore[return-value]
