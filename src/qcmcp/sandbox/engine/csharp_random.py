"""C#'s ``System.Random`` (``Random(seed)``), as LEAN's Python algorithms get it from ``AlgorithmImports``.

A seeded System.Random uses .NET's legacy subtractive generator (Knuth's, kept as Net5CompatSeedImpl), so the
same seed gives the same numbers as in C#: ``next()``, ``next(max)``, ``next(min, max)``, ``next_double()``.
An unseeded one is seeded from the clock, as in .NET.
"""

from __future__ import annotations

import time as _time

from qcmcp.sandbox.engine.types import PascalAliases

_MBIG, _MSEED = 2147483647, 161803398


class Random(PascalAliases):
    def __init__(self, seed: int | None = None) -> None:
        if seed is None:
            seed = int(_time.time() * 1000) & 0x7FFFFFFF
        seed = int(seed)
        subtraction = _MBIG if seed == -2147483648 else abs(seed)
        mj = _MSEED - subtraction
        seeds = [0] * 56
        seeds[55] = mj
        mk = 1
        for i in range(1, 55):
            ii = (21 * i) % 55
            seeds[ii] = mk
            mk = mj - mk
            if mk < 0:
                mk += _MBIG
            mj = seeds[ii]
        for _ in range(1, 5):
            for i in range(1, 56):
                seeds[i] -= seeds[1 + (i + 30) % 55]
                if seeds[i] < 0:
                    seeds[i] += _MBIG
        self._seeds, self._next, self._nextp = seeds, 0, 21

    def _internal_sample(self) -> int:
        nxt, nxtp = self._next + 1, self._nextp + 1
        if nxt >= 56:
            nxt = 1
        if nxtp >= 56:
            nxtp = 1
        value = self._seeds[nxt] - self._seeds[nxtp]
        if value == _MBIG:
            value -= 1
        if value < 0:
            value += _MBIG
        self._seeds[nxt] = value
        self._next, self._nextp = nxt, nxtp
        return value

    def _sample(self) -> float:
        return self._internal_sample() * (1.0 / _MBIG)

    def _large_range_sample(self) -> float:
        result = self._internal_sample()
        if self._internal_sample() % 2 == 0:
            result = -result
        return (result + (_MBIG - 1.0)) / (2.0 * _MBIG - 1.0)

    def next(self, low: int | None = None, high: int | None = None) -> int:
        """Next() in [0, 2^31-1), Next(max) in [0, max), Next(min, max) in [min, max)."""
        if low is None:
            return self._internal_sample()
        if high is None:
            low, high = 0, low
        if low > high:
            raise ValueError("'minValue' cannot be greater than maxValue.")
        span = int(high) - int(low)
        if span <= 2147483647:
            return int(self._sample() * span) + int(low)
        return int(self._large_range_sample() * span) + int(low)

    def next_double(self) -> float:
        return self._sample()
