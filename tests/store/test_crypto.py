"""Identifier hashing in SQL equals hashing in Python; ciphertexts round-trip and bind."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.errors import IntegrityError
from credo.store.crypto import IdentifierKeys, normalize_identifier, normalize_sql

KEYS = IdentifierKeys.from_secret(bytes(range(32)))
CON = duckdb.connect()
identifiers = st.text(
    alphabet=st.sampled_from("0123456789xX +-()86 \t张" + "\u00e9\uff11"), min_size=0, max_size=25
)


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(["phone", "national_id"]), value=identifiers)
def test_sql_and_python_agree(kind: str, value: str) -> None:
    one = "FROM (SELECT CAST($v AS VARCHAR) AS v)"
    norm = CON.execute(f"SELECT {normalize_sql(kind, 'v')} {one}", {"v": value}).fetchall()
    assert norm[0][0] == normalize_identifier(kind, value)
    sql, (outer, inner) = KEYS.hash_sql(kind, "v")
    sql = sql.replace("?", "$outer", 1).replace("?", "$inner", 1)
    got = CON.execute(f"SELECT {sql} {one}", {"v": value, "outer": outer, "inner": inner})
    assert got.fetchall()[0][0] == KEYS.hash(kind, value)


def test_spellings_of_one_number_hash_alike_and_kinds_do_not_collide() -> None:
    assert KEYS.hash("phone", "+86 138-0000-0001") == KEYS.hash("phone", "13800000001")
    assert KEYS.hash("national_id", "11010519491231002x") == KEYS.hash(
        "national_id", "11010519491231002X"
    )
    assert KEYS.hash("phone", "123") != KEYS.hash("national_id", "123")
    other = IdentifierKeys.from_secret(bytes(32))
    assert other.hash("phone", "13800000001") != KEYS.hash("phone", "13800000001")


def test_ciphertext_round_trips_and_is_bound_to_key_and_kind() -> None:
    blob = KEYS.encrypt("national_id", "11010519491231002x")
    assert KEYS.decrypt("national_id", blob) == "11010519491231002X"
    assert KEYS.encrypt("phone", "1") != KEYS.encrypt("phone", "1")  # fresh nonce each time
    with pytest.raises(IntegrityError):
        KEYS.decrypt("phone", blob)
    with pytest.raises(IntegrityError):
        IdentifierKeys.from_secret(bytes(32)).decrypt("national_id", blob)


@settings(max_examples=50, deadline=None)
@given(items=st.lists(st.tuples(st.sampled_from(["phone", "national_id"]), identifiers)))
def test_encrypt_many_is_encrypt_of_each_with_its_own_nonce(items: list[tuple[str, str]]) -> None:
    kinds, values = [k for k, _ in items], [v for _, v in items]
    blobs = KEYS.encrypt_many(kinds, values)
    assert len(blobs) == len(items)
    for kind, value, blob in zip(kinds, values, blobs, strict=True):
        assert KEYS.decrypt(kind, blob) == normalize_identifier(kind, value)
        with pytest.raises(IntegrityError):  # bound to its kind, as encrypt's are
            KEYS.decrypt("phone" if kind == "national_id" else "national_id", blob)
    assert len({b[:12] for b in blobs}) == len(blobs)  # no nonce used twice


@settings(max_examples=50, deadline=None)
@given(items=st.lists(st.tuples(st.sampled_from(["phone", "national_id"]), identifiers)))
def test_encrypt_many_normalized_seals_values_as_given(items: list[tuple[str, str]]) -> None:
    # The load normalises in SQL first (decision 0991): the values are sealed unchanged.
    kinds, values = [k for k, _ in items], [v for _, v in items]
    blobs = KEYS.encrypt_many(kinds, values, normalized=True)
    assert [KEYS.decrypt(k, b) for k, b in zip(kinds, blobs, strict=True)] == values
    assert len({b[:12] for b in blobs}) == len(blobs)


def test_encrypt_many_refuses_unequal_lists() -> None:
    with pytest.raises(ValueError, match="one kind per value"):
        KEYS.encrypt_many(["phone"], [])
