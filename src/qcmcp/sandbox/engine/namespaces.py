"""LEAN's other import paths inside the sandbox: ``clr``, ``System``, ``QuantConnect.*`` and the framework
folders (``from Alphas.ConstantAlphaModel import ConstantAlphaModel``, ``from Portfolio… import``,
``Selection``, ``Execution``, ``Risk``, ``Orders``).

A name the engine implements resolves to the implementation (the same object ``AlgorithmImports`` gives);
any other name is a stand-in that refuses clearly where it is used ("not supported in the sandbox: <name>").
``clr.AddReference`` is accepted and does nothing. A project file of the same name (``Portfolio.py``) wins.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any

from qcmcp.sandbox.engine.unsupported import stand_in

ROOTS = frozenset({"clr", "System", "QuantConnect", "Alphas", "Portfolio", "Selection", "Execution", "Risk",
                   "Orders", "Newtonsoft", "Python", "Indicators", "Algorithm"})
SYSTEM_NAMES = ("DateTime", "TimeSpan", "Decimal", "Double", "Int32", "Int64", "String", "Math", "Array", "Object",
                "Func", "Action", "Enum", "Type", "Convert", "Nullable", "Exception", "Environment", "Guid",
                "DayOfWeek", "DateTimeKind", "Collections", "Linq", "Globalization")


class LeanModule(types.ModuleType):
    def __init__(self, name: str, exported: dict[str, Any]) -> None:
        super().__init__(name)
        self.__path__: list[str] = []  # a package: submodules import too
        self._exported = exported
        leaf = name.rsplit(".", 1)[-1]
        if name.split(".")[0] == "System":
            self.__all__ = [n for n in SYSTEM_NAMES if n in exported or True]
        elif name.split(".")[0] in ("QuantConnect", "Algorithm") or name in ("Alphas", "Portfolio", "Selection",
                                                                             "Execution", "Risk", "Orders"):
            self.__all__ = sorted(exported)
        else:  # Alphas.ConstantAlphaModel: the class named like the module
            self.__all__ = [leaf]
        if name == "clr":
            self.AddReference = self.add_reference = lambda *_: None

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        if attribute in self._exported:
            return self._exported[attribute]
        value = stand_in(attribute if self.__name__ == "clr" else attribute)
        setattr(self, attribute, value)
        return value


class LeanNamespaceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, exported: dict[str, Any], project: str | None) -> None:
        self.exported = exported
        self.project = project

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        top = fullname.split(".")[0]
        if top not in ROOTS:
            return None
        if self.project and importlib.machinery.PathFinder.find_spec(top, [self.project]) is not None:
            return None  # the project's own module of that name wins
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if spec.name.startswith("QuantConnect.Data.Custom.") or spec.name.startswith("QuantConnect.DataSource"):
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse(f"custom data ({spec.name})")  # its names are unknown here: refuse at the import, not a NameError
        return LeanModule(spec.name, self.exported)

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def install(exported: dict[str, Any], project: str | None = None) -> None:
    """Put the finder first on sys.meta_path (installed packages such as type stubs must not answer for
    ``clr`` or ``System``), after the project's own files; once per process, refreshed each run."""
    for finder in list(sys.meta_path):
        if isinstance(finder, LeanNamespaceFinder):
            sys.meta_path.remove(finder)
    for name in [n for n in sys.modules if n.split(".")[0] in ROOTS]:
        if isinstance(sys.modules[name], LeanModule):
            del sys.modules[name]
    sys.meta_path.insert(0, LeanNamespaceFinder(exported, project))
