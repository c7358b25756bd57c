"""LEAN names the sandbox engine does not implement: each fails clearly where it is used.

``from AlgorithmImports import *`` defines every public LEAN name (the list generated from LEAN's stubs,
``sandbox/data/algorithm_imports.txt``). Those the engine lacks become stand-ins that raise
``UnsupportedFeature("not supported in the sandbox: <name>; run it in the cloud")`` the moment the algorithm
calls, subclasses-and-instantiates, subscripts or reads an attribute of them — never a NameError, and never
a silently wrong number. QCAlgorithm members the engine lacks do the same (``QCAlgorithm.__getattr__``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, NoReturn

from qcmcp.sandbox.engine.types import snake_case


class UnsupportedFeature(RuntimeError):
    """A LEAN feature the sandbox engine does not implement."""


class UnsupportedAttribute(UnsupportedFeature, AttributeError):
    """An unsupported LEAN member: also an AttributeError, so ``hasattr``/``getattr(x, name, default)`` probes
    answer as for a missing attribute, while using it reports the feature."""


def refuse(feature: str) -> NoReturn:
    raise UnsupportedFeature(f"not supported in the sandbox: {feature}; run it in the cloud")


def refuse_attribute(owner: str, name: str) -> NoReturn:
    raise UnsupportedAttribute(f"not supported in the sandbox: {owner}.{name}; run it in the cloud")


@cache
def _names(resource: str) -> frozenset[str]:
    try:
        text = resources.files("qcmcp.sandbox.data").joinpath(resource).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        return frozenset()
    return frozenset(line for line in text.splitlines() if line)


def lean_names() -> frozenset[str]:
    return _names("algorithm_imports.txt")


def qcalgorithm_members() -> frozenset[str]:
    return _names("qcalgorithm_members.txt")


def is_lean_class_member(name: str) -> bool:
    """Whether any LEAN class has a member of this (snake_case) name."""
    return name in _names("lean_members.txt")


def is_lean_member(name: str) -> bool:
    members = qcalgorithm_members()
    return name in members or snake_case(name) in members


class _UnsupportedType(type):
    """The metaclass of stand-ins: a class statement deriving from one works; using it does not."""

    def __call__(cls, *args: Any, **kwargs: Any) -> NoReturn:
        refuse(cls._lean_name)  # type: ignore[attr-defined]

    def __getattr__(cls, name: str) -> NoReturn:
        if name.startswith("__"):
            raise AttributeError(name)
        refuse(f"{cls._lean_name}.{name}")  # type: ignore[attr-defined]

    def __getitem__(cls, item: Any) -> NoReturn:
        refuse(f"{cls._lean_name}[...]")  # type: ignore[attr-defined]

    def __iter__(cls) -> NoReturn:
        refuse(cls._lean_name)  # type: ignore[attr-defined]

    def __repr__(cls) -> str:
        return f"<LEAN {cls._lean_name}: not supported in the sandbox>"  # type: ignore[attr-defined]


class _UnsupportedException(Exception):
    """Base of stand-ins for LEAN's exception types: ``except ArgumentException:`` still parses and runs."""


def stand_in(name: str) -> type:
    if name.endswith("Exception"):
        return type(name, (_UnsupportedException,), {"__module__": "AlgorithmImports"})
    return _UnsupportedType(name, (), {"_lean_name": name, "__module__": "AlgorithmImports"})


def stand_ins(defined: set[str]) -> dict[str, type]:
    """A stand-in for every LEAN public name not in ``defined``."""
    return {name: stand_in(name) for name in lean_names() - defined if name.isidentifier()}
