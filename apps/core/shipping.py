"""Functions sent to Dask workers that do not have OMM's code: pickled by value.

distributed pickles a task graph with the standard pickle, which names a function by its
module; the scheduler (which unpickles graphs) and the workers of a cluster started from the
pinned libraries alone cannot import OMM's modules, and ``cloudpickle.register_pickle_by_value``
does not change what the standard pickle does. ``by_value(fn, *modules)`` wraps ``fn`` so that
it travels as cloudpickle's copy of its code and of the ``modules`` it uses (pure modules;
numpy, pyarrow and the other libraries are still imported by name), made once, here.

The copy stays bytes until a worker calls it, so the scheduler neither imports the libraries
nor has to pickle the function again (a module-level lock, such as a cache's, cannot be
pickled twice); on the worker a lock in the copy arrives as a new lock.

Pure module: no Django import.
"""

from __future__ import annotations

import io
import pickle
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import cloudpickle

_LOCKS = (type(threading.Lock()), type(threading.RLock()))


class _Pickler(cloudpickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCKS):
            return threading.Lock, ()
        return super().reducer_override(obj)


def _dumps(obj: Any) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


class _Remote:
    """What the scheduler and the workers hold: the pickled copy of a function, unpickled
    when a worker first calls it. This class itself travels by value."""

    def __init__(self, blob: bytes, name: str):
        self.blob = blob
        self.__name__ = name
        self._fn: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._fn is None:
            # Bytes OMM pickled itself, inside the cluster it trusts (Dask pickles every task).
            self._fn = pickle.loads(self.blob)  # noqa: S301
        return self._fn(*args, **kwargs)

    def __reduce__(self) -> tuple:
        return type(self), (self.blob, self.__name__)


class ByValue:
    """``fn``, called here as it is, and pickled as a ``_Remote`` copy."""

    def __init__(self, fn: Callable, remote: bytes):
        self.fn = fn
        self.remote = remote
        self.__name__ = getattr(fn, "__name__", "by_value")  # Dask names its tasks after it

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __reduce__(self) -> tuple:
        return pickle.loads, (self.remote,)


_registering = threading.Lock()


def by_value(fn: Callable, *modules: ModuleType) -> ByValue:
    """``fn`` pickled with its own code and that of ``modules`` (packages include their
    submodules), for a Dask scheduler and workers without OMM's code."""
    import sys

    wanted = [*modules, sys.modules[__name__]]
    with _registering:
        added = [m for m in wanted if m.__name__ not in cloudpickle.list_registry_pickle_by_value()]
        for module in added:
            cloudpickle.register_pickle_by_value(module)
        try:
            blob = _dumps(fn)
            remote = _dumps(_Remote(blob, getattr(fn, "__name__", "by_value")))
        finally:
            # Only for this copy: the process's other pickling stays by reference.
            for module in added:
                cloudpickle.unregister_pickle_by_value(module)
    return ByValue(fn, remote)
