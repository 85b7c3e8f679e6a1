"""A thread-safe, size-bounded cache for one process (one gunicorn worker).

Entries leave least recently used first once the total weight passes the
bound, so a worker that sees ever new DIDs or status lists keeps flat
memory. Each worker has its own copy; nothing is shared between processes.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class BoundedCache(Generic[Value]):
    """A mapping from text keys to values, bounded by total weight.

    :param max_weight: the most total weight kept; at least one entry is
        always kept, however heavy.
    :param weigh: the weight of a value; 1 by default, so ``max_weight`` is
        then a number of entries.
    """

    def __init__(
        self, max_weight: int, weigh: Callable[[Value], int] = lambda value: 1
    ) -> None:
        self.max_weight = max_weight
        self.weight = 0
        self._weigh = weigh
        self._entries: OrderedDict[str, tuple[Value, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Value | None:
        """Return the value at ``key`` and mark it used, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: str, value: Value) -> None:
        """Store ``value`` at ``key``, evicting the least recently used."""
        weight = self._weigh(value)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.weight -= old[1]
            self._entries[key] = (value, weight)
            self.weight += weight
            while self.weight > self.max_weight and len(self._entries) > 1:
                _, (_, evicted) = self._entries.popitem(last=False)
                self.weight -= evicted
