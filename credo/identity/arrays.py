"""Per-record columns of a resolution run held as arrays, not as Python objects.

A run handles every record at once: 17.7 million at a million persons. As Python lists and
dicts, the record ids, their index and each record's earlier person cost about 220 bytes a
record (0.37 GiB at 100,000 persons, measured; about 3.6 GiB at a million). ``RecordIds`` reads
the ids in place from the records' Arrow column (records are ordered by id, so a binary search
replaces the dict), and ``PersonCodes`` keeps one int32 per record and each person's id once
(decision 0117). ``TraitColumns`` holds what each record says that another record of its person
may not contradict as three small integers, not as a ``Traits`` object (decision 0128).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import TypeAlias, overload

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from credo.identity.constraints import Traits

__all__ = [
    "OriginOrder",
    "PersonCodes",
    "Ranks",
    "RecordIds",
    "RecordIndex",
    "TraitColumns",
    "origin_order",
    "origin_ranks",
]

_BATCH = 1 << 16

Ranks: TypeAlias = Sequence[int] | npt.NDArray[np.int64]
"""Each record's place in the order of origins (``origin_ranks``)."""

OriginOrder: TypeAlias = npt.NDArray[np.uint64]
"""Each record's origin as a number that sorts as the origin does (``origin_order``)."""


def _fixed_width(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The strings as one numpy ``S<w>`` array, a view of the Arrow data when every string has
    the same length (record ids are md5 hex digests), else a padded copy."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if array.null_count:
        raise ValueError("record ids must not be null")
    n = len(array)
    if n == 0:
        return np.empty(0, "S1")
    binary = array.cast(pa.large_binary())
    lengths = pc.binary_length(binary)
    bounds = pc.min_max(lengths)
    width = int(bounds["max"].as_py())
    if width > 0 and width == int(bounds["min"].as_py()):
        offsets = np.frombuffer(binary.buffers()[1], np.int64, n + 1, binary.offset * 8)
        data = np.frombuffer(binary.buffers()[2], np.uint8, n * width, int(offsets[0]))
        return data.view(f"S{width}")
    return np.array(binary.to_pylist(), f"S{max(width, 1)}")


class RecordIds(Sequence[str]):
    """The run's record ids, index -> id; ``positions`` maps them back, id -> index.

    The ids must be sorted and distinct, as ``load_records`` gives them (DuckDB orders text by
    its bytes, as numpy does): anything else raises ``ValueError``."""

    def __init__(self, column: pa.Array | pa.ChunkedArray) -> None:
        ids = _fixed_width(column)
        if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            raise ValueError("record ids must be sorted and distinct")
        self._ids = ids
        self.positions = RecordIndex(self)

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, key: int) -> str: ...
    @overload
    def __getitem__(self, key: slice) -> list[str]: ...
    def __getitem__(self, key: int | slice) -> str | list[str]:
        if isinstance(key, slice):
            return [bytes(b).decode() for b in self._ids[key]]
        return bytes(self._ids[key]).decode()

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self._ids), _BATCH):
            for b in self._ids[start : start + _BATCH].tolist():
                yield b.decode()

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and self.find(value) is not None

    def find(self, record_id: str) -> int | None:
        """The index of ``record_id``, None if the run has no such record."""
        key = record_id.encode()
        i = int(np.searchsorted(self._ids, key))
        if i < len(self._ids) and bytes(self._ids[i]) == key:
            return i
        return None


class RecordIndex(Mapping[str, int]):
    """Record id -> index, by binary search over ``RecordIds`` (no dict of every id)."""

    def __init__(self, ids: RecordIds) -> None:
        self._ids = ids

    def __getitem__(self, record_id: str) -> int:
        found = self._ids.find(record_id)
        if found is None:
            raise KeyError(record_id)
        return found

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


class PersonCodes(Sequence[str | None]):
    """Each record's person id, or None: an int32 code per record into the distinct ids."""

    def __init__(self, persons: pa.Array | pa.ChunkedArray) -> None:
        encoded = pc.dictionary_encode(
            persons.combine_chunks() if isinstance(persons, pa.ChunkedArray) else persons
        )
        self.names: list[str] = encoded.dictionary.to_pylist()
        self.codes: np.ndarray = pc.fill_null(encoded.indices.cast(pa.int32()), -1).to_numpy(
            zero_copy_only=False
        )

    def __len__(self) -> int:
        return len(self.codes)

    @overload
    def __getitem__(self, key: int) -> str | None: ...
    @overload
    def __getitem__(self, key: slice) -> list[str | None]: ...
    def __getitem__(self, key: int | slice) -> str | list[str | None] | None:
        if isinstance(key, slice):
            return [self._name(int(c)) for c in self.codes[key]]
        return self._name(int(self.codes[key]))

    def _name(self, code: int) -> str | None:
        return None if code < 0 else self.names[code]

    def __iter__(self) -> Iterator[str | None]:
        names = self.names
        for start in range(0, len(self.codes), _BATCH):
            for c in self.codes[start : start + _BATCH].tolist():
                yield None if c < 0 else names[c]

    def new(self) -> int:
        """How many records have no earlier person."""
        return int(np.count_nonzero(self.codes < 0))


def origin_ranks(origins: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """Each record's place in the order of ``origins`` (as ``sorted`` orders the strings: by
    code point, which is UTF-8's byte order; ties by record index)."""
    order = pc.sort_indices(origins).to_numpy()
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank


def origin_order(origins: pa.Array | pa.ChunkedArray) -> OriginOrder:
    """Each record's origin as its dense rank among the origins: equal origins, equal numbers,
    and the numbers compare as the strings do. Numbering new persons by these instead of the
    strings gives the same ids without a Python string per record."""
    ranks: OriginOrder = pc.rank(origins, sort_keys="ascending", tiebreaker="dense").to_numpy()
    return ranks


_EPOCH = dt.date(1970, 1, 1)
_NO_DATE = np.iinfo(np.int32).min


def _array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


class TraitColumns(Sequence[Traits]):
    """Each record's ``Traits``, made when read: its verified national id as an int32 code
    into ``ids`` (-1: none), its sex as an int8 code (-1: none), its date of birth as int32
    days since 1970 (``_NO_DATE``: none); 9 bytes a record.

    As a list of ``Traits`` (with each id's string and each date's object) they took about 50
    bytes a record, and reading the three columns into Python lists first about 100 more. The
    clustering reads a record's ``Traits`` only when a link asks for its ``Holdings``."""

    def __init__(
        self,
        id_codes: npt.NDArray[np.int32],
        ids: pa.Array,
        sex: pa.Array | pa.ChunkedArray,
        birth: pa.Array | pa.ChunkedArray,
    ) -> None:
        n = len(id_codes)
        if len(sex) != n or len(birth) != n:
            raise ValueError(f"trait columns of {n}, {len(sex)} and {len(birth)} records")
        self._id = np.asarray(id_codes, dtype=np.int32)
        self._ids = _fixed_width(ids) if len(ids) else np.empty(0, "S1")
        encoded = pc.dictionary_encode(_array(sex).cast(pa.string()))
        self._sexes: list[str] = encoded.dictionary.to_pylist()
        if len(self._sexes) > 127:
            raise ValueError(f"{len(self._sexes)} distinct sexes: at most 127 are kept")
        self._sex = pc.fill_null(encoded.indices.cast(pa.int8()), -1).to_numpy(zero_copy_only=False)
        days = _array(birth).cast(pa.date32()).cast(pa.int32())
        self.birth: npt.NDArray[np.int32] = pc.fill_null(days, _NO_DATE).to_numpy(
            zero_copy_only=False
        )

    def __len__(self) -> int:
        return len(self._id)

    @overload
    def __getitem__(self, key: int) -> Traits: ...
    @overload
    def __getitem__(self, key: slice) -> list[Traits]: ...
    def __getitem__(self, key: int | slice) -> Traits | list[Traits]:
        if isinstance(key, slice):
            return [self[i] for i in range(*key.indices(len(self)))]
        code, sex = int(self._id[key]), int(self._sex[key])
        return Traits(
            None if code < 0 else bytes(self._ids[code]).decode(),
            None if sex < 0 else self._sexes[sex],
            self.birth_of(key),
        )

    def __iter__(self) -> Iterator[Traits]:
        for i in range(len(self)):
            yield self[i]

    def birth_of(self, i: int) -> dt.date | None:
        """Record ``i``'s date of birth (None: it states none)."""
        days = int(self.birth[i])
        return None if days == _NO_DATE else _EPOCH + dt.timedelta(days=days)
