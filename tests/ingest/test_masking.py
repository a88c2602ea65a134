"""Identifiers never appear in clear in ingest's messages or quarantine (issue 17, item 7): a
broken line is shown masked, a rejected id, phone or name is kept masked."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_files import GOOD_ROWS, HEADER, payments_mapping, write

from credo.errors import InputError, RejectedRowsError
from credo.identifiers import mask, mask_line
from credo.ingest.loader import ingest
from credo.store.db import Store

NATIONAL_ID = "110101199003072316"
PHONE = "13912345678"
NAME = "欧阳小明"
SECRETS = (NATIONAL_ID, PHONE, NAME, NATIONAL_ID[:12], PHONE[:7])


def _clear_of_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


@pytest.mark.parametrize(
    "broken",
    [
        f'T9,01/03/2026 10:00,100,G,{PHONE},{NAME},"id {NATIONAL_ID}\n',  # a quote never closed
        f"T9,01/03/2026 10:00,100,G,{PHONE},{NAME},x,{NATIONAL_ID}\n",  # a ragged row
    ],
)
def test_a_broken_line_is_shown_masked(store: Store, tmp_path: Path, broken: str) -> None:
    path = write(tmp_path / "broken.csv", HEADER + GOOD_ROWS[0] + broken + GOOD_ROWS[1])
    with pytest.raises(InputError) as caught:
        ingest(store, path, "shop", payments_mapping())
    message = str(caught.value)
    _clear_of_secrets(message)
    assert "line 3" in message and mask(NATIONAL_ID) in message  # where, and the shape
    assert store.scalar("SELECT count(*) FROM events") == 0


def test_rejected_identifiers_are_masked_in_the_error_and_the_quarantine(
    store: Store, tmp_path: Path
) -> None:
    rows = [
        f"R1,01/03/2026 10:00,100,G,{PHONE}\x07,{NAME},\n",  # a control character in each
        f"R2,01/03/2026 10:00,100,G,{PHONE},{NAME}\x01,\n",
    ]
    path = write(tmp_path / "bad.csv", HEADER + "".join(rows))
    with pytest.raises(RejectedRowsError) as caught:
        ingest(store, path, "shop", payments_mapping())
    report = caught.value.report
    _clear_of_secrets(str(caught.value) + repr(report))
    path = write(tmp_path / "some.csv", HEADER + "".join(GOOD_ROWS) + "".join(rows))
    ingest(store, path, "shop", payments_mapping(), max_reject_rate=0.9)
    stored = store.con.execute("SELECT field, raw_value FROM quarantine ORDER BY row_no").fetchall()
    assert stored == [("phone", mask(PHONE + "\x07")), ("name", mask(NAME + "\x01"))]
    _clear_of_secrets(repr(stored))


def test_mask_keeps_the_last_four_of_a_long_value_and_nothing_of_a_short_one() -> None:
    assert mask(NATIONAL_ID) == "*" * 14 + "2316"
    assert mask(PHONE) == "*" * 7 + "5678"
    assert mask(NAME) == "****"
    assert mask_line(f'"{NAME}",{NATIONAL_ID};x') == '"****",**************2316;*'
