"""Unit tests under mutmut (`make mutation`): the collection's import names load the mutated copy.

mutmut copies the tree into ``mutants/`` and names each mutant after its file's path (``plugins.filter.fargate``);
a mutant is active only in a module of exactly that name. The tests import the collection's names
(``ansible_collections.ecspress.wordpress.plugins.filter.fargate``), which would load the checkout's unmutated
files (through ``.cache/collections``). Inside ``mutants/`` only, every ``ansible_collections.ecspress.wordpress.X``
is made the very module ``X`` of the copy, so both names are one module and the mutants are what the tests run.
Anywhere else (``make unit``, ``ansible-test units``) this file does nothing.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from pathlib import Path

COLLECTION = "ansible_collections.ecspress.wordpress"
TREE = Path(__file__).resolve().parents[2]


class MutantsAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``ansible_collections.ecspress.wordpress.X`` -> the module ``X`` of the mutants/ tree."""

    ecspress_mutants_alias = True

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in (COLLECTION, "ansible_collections.ecspress"):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if fullname.startswith(COLLECTION + "."):
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if spec.name.startswith(COLLECTION + "."):
            return importlib.import_module(spec.name[len(COLLECTION) + 1 :])
        module = types.ModuleType(spec.name)
        module.__path__ = [str(TREE)] if spec.name == COLLECTION else []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        """The module was imported (and executed) under its own name already."""


if TREE.name == "mutants" and not any(getattr(finder, "ecspress_mutants_alias", False) for finder in sys.meta_path):
    sys.meta_path.insert(0, MutantsAlias())
