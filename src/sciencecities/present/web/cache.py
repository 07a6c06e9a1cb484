"""The web API's query cache: results keyed by (store version, edition, endpoint, normalised query), bounded in
size, computed once when many requests ask for the same result at the same time."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

DEFAULT_SIZE = 256
"""How many results a cache keeps; the least recently used goes first."""


class QueryCache:
    """A thread-safe LRU cache with single flight: while one thread computes a key, the others asking for the
    same key wait for its result instead of computing it again. Errors are not cached. Size 0 disables it
    (every call computes), which the load benchmark uses as the uncached peer."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value of `key`, else `compute()` stored under it."""
        if self.size <= 0:
            return compute()
        with self._lock:
            if key in self._items:
                self.hits += 1
                self._items.move_to_end(key)
                return self._items[key]
            flight = self._flights.setdefault(key, threading.Lock())
        with flight:
            with self._lock:
                if key in self._items:
                    self.hits += 1
                    return self._items[key]
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._flights.pop(key, None)
                raise
            with self._lock:
                self.misses += 1
                self._items[key] = value
                self._flights.pop(key, None)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            return value

    def __len__(self) -> int:
        return len(self._items)
