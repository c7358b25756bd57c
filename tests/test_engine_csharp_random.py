"""C#'s seeded System.Random (engine/csharp_random.py) against the numbers .NET gives for the same seeds."""

from __future__ import annotations

import pytest

from qcmcp.sandbox.engine.csharp_random import Random


def test_a_seeded_random_gives_dotnets_sequence() -> None:
    # new Random(0).Next() x3 in .NET: 1559595546, 1755192844, 1649316166
    zero = Random(0)
    assert [zero.next() for _ in range(3)] == [1559595546, 1755192844, 1649316166]
    # Next(min, max) scales Sample() = InternalSample() / int.MaxValue into the range: 1559595546 / (2^31 - 1) * 10
    assert Random(0).next(0, 10) == int(1559595546 / 2147483647 * 10) == 7
    assert Random(0).next(5) == int(1559595546 / 2147483647 * 5)
    assert Random(0).next_double() == pytest.approx(1559595546 / 2147483647)
    assert Random(-7).next() == Random(7).next()  # .NET seeds with the absolute value
    with pytest.raises(ValueError):
        Random(1).next(5, 1)
