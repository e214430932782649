"""Plain decorator registries. The registered name is the public name used by the CLI and API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from gankit.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> object table with a clear error listing the valid names."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(obj: T) -> T:
            if name in self._items:
                raise RuntimeError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return decorate

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for tests that register a temporary entry)."""
        self._items.pop(name, None)

    def get(self, name: str) -> T:
        _load_builtins()
        if name not in self._items:
            raise ConfigError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            )
        return self._items[name]

    def names(self) -> list[str]:
        _load_builtins()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        _load_builtins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


MODELS: Registry = Registry("family")
DATASETS: Registry = Registry("dataset")
METRICS: Registry = Registry("metric")

register_model = MODELS.register
register_dataset = DATASETS.register
register_metric = METRICS.register

_loaded = False


def _load_builtins() -> None:
    """Import the built-in families, datasets and metrics once, so they register themselves."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import gankit.data  # noqa: F401
    import gankit.metrics  # noqa: F401
    import gankit.models  # noqa: F401
