"""Row names (household or hub ids) and the row of each name, in numpy rather than Python objects.

A Python list of a million `str` and a dict from each to its row cost about 110 bytes a name
(the string object, the list's pointer, the dict's slot); a city's detector keeps two such
indexes. Here the names are UTF-8 bytes in one fixed-width array in row order, and the lookup
is a sorted copy of the settled names (binary search) plus a small dict of the names added since
it was last sorted: about twice the id's length and 4 bytes a name, O(log n) to look one up,
vectorised to look many up at once (`rows`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

Rows = npt.NDArray[np.intp]

MIN_RECENT = 4096
"""Names added since the last sort are kept in a dict until there are this many (or an eighth
of the settled ones): sorting again is then amortised O(log n) a name."""


def _encode(names: Iterable[str]) -> npt.NDArray[np.bytes_]:
    encoded = [name.encode() for name in names]
    width = max((len(b) for b in encoded), default=1)
    return np.array(encoded, dtype=f"S{max(width, 1)}")


class Names:
    """`names[i]` is row i's name; `names.get(name)` its row (None if unknown)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names: npt.NDArray[np.bytes_] = np.zeros(0, dtype="S1")
        self._size = 0
        self._sorted: npt.NDArray[np.bytes_] = np.zeros(0, dtype="S1")
        self._order: npt.NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self._recent: dict[str, int] = {}
        self.extend(list(names))

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, row: int) -> str:
        if not -self._size <= row < self._size:
            raise IndexError(row)
        name: bytes = self._names.item(row % self._size)
        return name.decode()

    def __iter__(self) -> Iterator[str]:
        return (bytes(b).decode() for b in self._names[: self._size])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def get(self, name: str) -> int | None:
        row = self._recent.get(name)
        if row is not None:
            return row
        if not self._order.size:
            return None
        key = name.encode()
        if len(key) > self._sorted.dtype.itemsize or key.endswith(b"\0"):
            return None
        at = int(self._sorted.searchsorted(key))
        if at < self._sorted.size and self._sorted.item(at) == key:
            return int(self._order.item(at))
        return None

    def rows(self, names: list[str]) -> Rows:
        """The row of each name (-1 where unknown), looked up at once."""
        out = np.full(len(names), -1, dtype=np.intp)
        if not names:
            return out
        if self._order.size:
            keys = _encode(names)
            fits = keys.dtype.itemsize <= self._sorted.dtype.itemsize
            probe = keys if fits else keys.astype(self._sorted.dtype)  # longer ones cannot match
            at = np.minimum(np.searchsorted(self._sorted, probe), self._sorted.size - 1)
            hit = self._sorted[at] == keys
            out[hit] = self._order[at[hit]]
        if self._recent:
            for k, name in enumerate(names):
                row = self._recent.get(name)
                if row is not None:
                    out[k] = row
        return out

    def append(self, name: str) -> int:
        """Add a new name (not checked: see `get`); its row."""
        return self.extend([name])

    def extend(self, names: list[str]) -> int:
        """Add new names, distinct and not known yet; the row of the first."""
        first = self._size
        if not names:
            return first
        encoded = _encode(names)
        self._store(encoded)
        for k, name in enumerate(names):
            self._recent[name] = first + k
        if len(self._recent) >= max(MIN_RECENT, self._order.size // 8):
            self._settle()
        return first

    def reserve(self, capacity: int) -> None:
        """Room for `capacity` names without growing."""
        if capacity > self._names.size:
            grown = np.zeros(capacity, dtype=self._names.dtype)
            grown[: self._size] = self._names[: self._size]
            self._names = grown

    def _store(self, encoded: npt.NDArray[np.bytes_]) -> None:
        width = max(encoded.dtype.itemsize, self._names.dtype.itemsize)
        end = self._size + encoded.size
        if width > self._names.dtype.itemsize or end > self._names.size:
            capacity = max(end, 2 * self._names.size if end > self._names.size else self._names.size)
            grown = np.zeros(capacity, dtype=f"S{width}")
            grown[: self._size] = self._names[: self._size]
            self._names = grown
        self._names[self._size:end] = encoded
        self._size = end

    def _settle(self) -> None:
        names = self._names[: self._size]
        order = np.argsort(names, kind="stable")
        self._sorted = names[order]
        self._order = order.astype(np.int32)
        self._recent = {}

    def nbytes(self) -> int:
        """Bytes held: the names, the sorted copy and its rows, the dict of recent names."""
        import sys

        recent = sys.getsizeof(self._recent) + sum(sys.getsizeof(k) for k in self._recent)
        return int(self._names.nbytes + self._sorted.nbytes + self._order.nbytes) + recent

    def to_array(self) -> npt.NDArray[Any]:
        """The names in row order (numpy str), as a snapshot keeps them."""
        return np.array(list(self), dtype=np.str_)
