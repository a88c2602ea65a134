"""The Fellegi–Sunter model: Splink settings, training and prediction on DuckDB.

The settings are plain JSON-able data (``linkage_settings``) so that a trained model is one
JSON document holding the settings and the m/u probabilities together; ``SETTINGS_VERSION``
changes whenever a comparison, level or blocking rule changes, and a saved model of another
version is refused rather than silently reinterpreted.

Splink runs on its own DuckDB connection (in memory, spilling to a temporary folder beside the
store's own spill folder), never on the store's: its scratch tables must not land in the
audited database, and DuckDB 2 would block the shared connection on any half-read result.
Scored pairs stay in that connection (``credo_pairs``, by record index): at a million records
they are millions of rows, and holding them as Python objects was most of the peak memory
(decision 0210). Splink is imported inside the functions so that importing ``credo.identity``
costs nothing until a model is trained or used.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from credo.store.rows import registered, value

__all__ = [
    "ADDRESS_SUFFIX",
    "COMPARISONS",
    "PAIRS_TABLE",
    "SETTINGS_VERSION",
    "Comparison",
    "comparisons_json_sql",
    "linkage_settings",
    "predict_pairs",
    "quoted_path",
    "score_new_pairs",
    "splink_connection",
    "train_model",
]

SETTINGS_VERSION = "credo-linkage-2"


@dataclass(frozen=True)
class Comparison:
    name: str
    description: str
    levels: tuple[tuple[str, str], ...]  # (label, SQL condition), most specific first
    null_condition: str


def _null(*cols: str) -> str:
    return " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols)


def _exact(col: str) -> tuple[str, str]:
    return ("exact", f"{col}_l = {col}_r")


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "national_id",
        "national id number (keyed hash)",
        (_exact("national_id_hash"),),
        _null("national_id_hash"),
    ),
    Comparison("phone", "phone number (keyed hash)", (_exact("phone_hash"),), _null("phone_hash")),
    Comparison(
        "subject_ref",
        "the source's own customer or user id",
        (_exact("subject_ref"),),
        _null("subject_ref"),
    ),
    Comparison(
        "name",
        "name: as written, through pinyin in any order, then by spelling",
        (
            ("exact as written", "name_exact_l = name_exact_r"),
            ("same pinyin, any order", "name_key_l = name_key_r"),
            (
                "pinyin Jaro-Winkler >= 0.92",
                "greatest(jaro_winkler_similarity(name_key_l, name_key_r), "
                "jaro_winkler_similarity(name_ordered_l, name_ordered_r)) >= 0.92",
            ),
            (
                "pinyin Jaro-Winkler >= 0.80",
                "greatest(jaro_winkler_similarity(name_key_l, name_key_r), "
                "jaro_winkler_similarity(name_ordered_l, name_ordered_r)) >= 0.80",
            ),
        ),
        _null("name_key"),
    ),
    Comparison(
        "birth_date",
        "date of birth: exact, day and month swapped, one digit off",
        (
            _exact("birth_date"),
            (
                "day and month swapped",
                "year(birth_date_l) = year(birth_date_r) AND "
                "month(birth_date_l) = day(birth_date_r) AND "
                "day(birth_date_l) = month(birth_date_r)",
            ),
            (
                "one digit off",
                "levenshtein(strftime(birth_date_l, '%Y%m%d'), "
                "strftime(birth_date_r, '%Y%m%d')) <= 1",
            ),
        ),
        _null("birth_date"),
    ),
    Comparison(
        "address",
        "address: exact, one a shortened form of the other, similar",
        (
            _exact("address_norm"),
            (
                "same address, shortened",
                "length(address_norm_l) >= 8 AND length(address_norm_r) >= 8 AND "
                "(ends_with(address_norm_l, address_norm_r) OR "
                "ends_with(address_norm_r, address_norm_l))",
            ),
            (
                "Jaro-Winkler >= 0.9",
                "jaro_winkler_similarity(address_norm_l, address_norm_r) >= 0.9",
            ),
        ),
        _null("address_norm"),
    ),
    Comparison("sex", "sex", (_exact("sex"),), _null("sex")),
)

# An address written without its province and city is a suffix of the full one, so the
# addresses are blocked on their last ADDRESS_SUFFIX characters, which hold the street number,
# building, unit and room, and on the last ten (``address_tail``: building, unit and room
# only; in a Western address the postcode and state) together with the name or the date of
# birth. The last ten alone, the rule before decision 0997, is shared by every flat with the
# same building, unit and room number in any street: its pairs grew with the square of the
# records (383k at 10,000 persons, 20.7M at 100,000, about 500M at a million).
ADDRESS_SUFFIX = 14
BLOCKING_RULES = (
    "l.phone_hash = r.phone_hash",
    "l.national_id_hash = r.national_id_hash",
    "l.subject_ref = r.subject_ref",
    "l.name_key = r.name_key AND l.birth_date = r.birth_date",
    f"right(l.address_norm, {ADDRESS_SUFFIX}) = right(r.address_norm, {ADDRESS_SUFFIX})",
    "l.name_key = r.name_key AND l.address_tail = r.address_tail",
    "l.birth_date = r.birth_date AND l.address_tail = r.address_tail",
)
TRAINING_BLOCKS = (
    "l.phone_hash = r.phone_hash",
    "l.national_id_hash = r.national_id_hash",
    f"right(l.address_norm, {ADDRESS_SUFFIX}) = right(r.address_norm, {ADDRESS_SUFFIX})",
    "l.name_key = r.name_key AND l.birth_date = r.birth_date",
)
DETERMINISTIC_RULES = (
    "l.national_id_hash = r.national_id_hash",
    "l.phone_hash = r.phone_hash",
    "l.subject_ref = r.subject_ref",
)
# Identifier comparisons whose parameters are stated, not estimated: (m, u) of "exact" and of
# "different". Random sampling cannot estimate u for near-unique identifiers (its sample of
# "non-matches" is dominated by true matches: u comes out as about the share of pairs that
# match, which cancels the prior and makes a shared phone worth nothing), and EM never sees a
# match whose national id differs. So u is the rate at which two *different* persons share
# the value (phones are shared in families and recycled; id numbers and a source's own
# customer ids are not), and m says how often one person's records agree on it (people keep
# two phones; a customer id differs between sources, so disagreement there says nothing).
IDENTIFIER_PARAMETERS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "national_id": ((0.999, 1e-10), (0.001, 1.0 - 1e-10)),
    "phone": ((0.85, 1e-8), (0.15, 1.0 - 1e-8)),
    "subject_ref": ((0.5, 1e-10), (0.5, 0.5)),
}


def linkage_settings() -> dict[str, Any]:
    """Splink settings as plain data: the shape a saved model has before training."""
    comparisons = []
    for c in COMPARISONS:
        levels: list[dict[str, Any]] = [
            {"sql_condition": c.null_condition, "label_for_charts": "null", "is_null_level": True}
        ]
        levels += [{"sql_condition": sql, "label_for_charts": label} for label, sql in c.levels]
        levels.append({"sql_condition": "ELSE", "label_for_charts": "different"})
        comparisons.append(
            {
                "output_column_name": c.name,
                "comparison_description": c.description,
                "comparison_levels": levels,
            }
        )
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "record_id",
        "probability_two_random_records_match": 1e-5,
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": r, "sql_dialect": "duckdb"} for r in BLOCKING_RULES
        ],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": [],
        "max_iterations": 25,
        "em_convergence": 0.0001,
        "sql_dialect": "duckdb",
    }


@contextmanager
def splink_connection(
    memory_limit: str, threads: int | None, temp_root: Path | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private DuckDB connection for Splink's scratch tables, spilling to a temp folder
    (under ``temp_root`` when given: the store's spill folder, not a possibly small /tmp)."""
    if temp_root is not None:
        temp_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="credo-linkage-", dir=temp_root) as tmp:
        config: dict[str, Any] = {"memory_limit": memory_limit, "temp_directory": tmp}
        if threads:
            config["threads"] = threads
        con = duckdb.connect(":memory:", config=config)
        try:
            yield con
        finally:
            con.close()


def _linker(
    con: duckdb.DuckDBPyConnection,
    records: pa.Table | str | None,
    settings: dict[str, Any],
    sample_ids: pa.Array | pa.ChunkedArray | None = None,
) -> Any:
    """A Linker over ``credo_records`` (loaded from ``records``, or as already loaded).

    Each record carries ``idx``, its row number in ``records``: pairs are kept by index, so
    that clustering reads two small integers per pair instead of two 32-character ids.
    ``records`` may name a table of ``con`` that has ``idx`` already (``linkage_table``);
    ``sample_ids`` then replace its record ids, in the order of ``idx``."""
    from splink import DuckDBAPI, Linker

    if isinstance(records, str):
        if sample_ids is None:
            con.execute(
                f"CREATE OR REPLACE TABLE credo_records AS SELECT * FROM {records} ORDER BY idx"
            )
        else:
            ids = pa.table(
                {"idx": pa.array(np.arange(len(sample_ids), dtype=np.int32)), "sid": sample_ids}
            )
            with registered(con, "credo_sample_ids", ids):
                con.execute(
                    "CREATE OR REPLACE TABLE credo_records AS SELECT f.* REPLACE (s.sid AS "
                    f"record_id) FROM {records} f JOIN credo_sample_ids s USING (idx) ORDER BY idx"
                )
    elif records is not None:
        indexed = records.append_column("idx", pa.array(range(records.num_rows), pa.int32()))
        with registered(con, "credo_records_arrow", indexed):
            con.execute(
                "CREATE OR REPLACE TABLE credo_records AS SELECT * FROM credo_records_arrow"
            )
    db_api = DuckDBAPI(con)
    frame = db_api.register("credo_records")
    # EM blocked on a field cannot train that field's m values and Splink warns about each
    # such level on every run; that is expected here (each field is trained in another
    # session), so only errors are shown.
    return Linker(frame, settings, log_level=logging.ERROR)


def train_model(
    con: duckdb.DuckDBPyConnection,
    records: pa.Table | str,
    *,
    seed: int = 42,
    u_max_pairs: float = 2e6,
    em_max_pairs: float = 1e6,
    recall: float = 0.8,
    sample_ids: pa.Array | None = None,
) -> dict[str, Any]:
    """Estimate the model on the records themselves (no labels): λ from the id rule, u by
    random sampling, m by EM in sessions blocked on phone, national id and address.

    Splink samples records (for u, and for EM past ``em_max_pairs``) by a hash of their unique
    id. A record id digests the keyed identifier hashes, so sampling by it would make the model,
    and so the persons, depend on the identifier key (every new key, as in each fresh demo,
    another model). ``sample_ids`` (one per record, unique, free of keyed values, such as
    ``load_records``' ``origin``) stand in for the record ids while training. ``records``: the
    features, or the name of their table in ``con`` (``linkage_table``)."""
    if sample_ids is not None and not isinstance(records, str):
        records = records.set_column(
            records.schema.get_field_index("record_id"), "record_id", sample_ids
        )
        sample_ids = None
    linker = _linker(con, records, linkage_settings(), sample_ids)
    linker.training.estimate_probability_two_random_records_match(
        list(DETERMINISTIC_RULES), recall=recall
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    linker = _linker(con, None, _state_identifiers(linker.misc.save_model_to_json()))
    from splink.internals.exceptions import EMTrainingException

    for rule in TRAINING_BLOCKS:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, max_pairs=em_max_pairs, record_sample_proportion=1.0
            )
        except EMTrainingException:
            continue  # no pairs share this identifier (a data set without phones): skip it
    return _complete(_state_identifiers(linker.misc.save_model_to_json()))


def _state_identifiers(model: dict[str, Any]) -> dict[str, Any]:
    for comp in model["comparisons"]:
        params = IDENTIFIER_PARAMETERS.get(comp["output_column_name"])
        if params is None:
            continue
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        for lv, (m, u) in zip(levels, params, strict=True):
            lv["m_probability"], lv["u_probability"] = m, u
            lv["fix_m_probability"] = True
            lv["fix_u_probability"] = True
    return model


def _complete(model: dict[str, Any]) -> dict[str, Any]:
    """A level EM never observed among matches gets m = u (no evidence either way) and m is
    renormalised, so every level has a finite, explainable weight."""
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        for lv in levels:
            if not lv.get("m_probability"):
                lv["m_probability"] = lv.get("u_probability") or 1e-6
            if not lv.get("u_probability"):
                lv["u_probability"] = 1e-6
        total = sum(float(lv["m_probability"]) for lv in levels)
        for lv in levels:
            lv["m_probability"] = _round(float(lv["m_probability"]) / total)
            lv["u_probability"] = _round(float(lv["u_probability"]))
    model.pop("linker_uid", None)  # random per Linker: not part of what the model is
    lam = float(model["probability_two_random_records_match"])
    model["probability_two_random_records_match"] = _round(lam)
    return model


def _round(x: float) -> float:
    """Nine significant digits: DuckDB's parallel sums differ in the last bits between runs,
    and a model trained twice on the same records must be the same model."""
    return float(f"{x:.9g}")


def quoted_path(path: Path) -> str:
    """``path`` as an SQL string literal (a file name cannot be a prepared parameter of
    ``COPY`` or of a view)."""
    return "'" + str(path).replace("'", "''") + "'"


PAIRS_TABLE = "credo_pairs"
"""Scored pairs in the linkage connection: ``a < b`` (record indexes), ``match_weight`` and
``mw_<comparison>`` for each comparison."""


def predict_pairs(
    con: duckdb.DuckDBPyConnection,
    records: pa.Table | str,
    model: dict[str, Any],
    min_weight: float,
    *,
    new: list[bool] | None = None,
) -> int:
    """Score every blocked pair at ``min_weight`` or above into ``PAIRS_TABLE``; the count.

    With ``new`` (one flag per record), only pairs with at least one new record are scored:
    Splink's ``predict_between`` (new against the others) and ``predict_within`` (new among
    themselves), so an incremental load costs what its own records cost."""
    linker = _linker(con, records, model)
    frames = []
    if new is None:
        frames.append(linker.inference.predict(threshold_match_weight=min_weight))
    elif any(new):
        flags = pa.table({"idx": range(len(new)), "new": new})
        with registered(con, "credo_new_flags", flags):
            for name, flag in (("credo_records_new", "true"), ("credo_records_old", "false")):
                con.execute(
                    f"CREATE OR REPLACE TABLE {name} AS SELECT r.* FROM credo_records r "
                    f"JOIN credo_new_flags f USING (idx) WHERE f.new = {flag}"
                )
        api = linker._db_api
        fresh, old = api.register("credo_records_new"), api.register("credo_records_old")
        frames.append(linker.inference.predict_within(fresh, threshold_match_weight=min_weight))
        if any(not f for f in new):
            frames.append(
                linker.inference.predict_between(fresh, old, threshold_match_weight=min_weight)
            )
    selects = []
    for frame in frames:
        present = set(con.sql(f"SELECT * FROM {frame.physical_name} LIMIT 0").columns)
        # Splink leaves out a comparison whose every level weighs the same (a column all blank)
        weights = ", ".join(
            f"p.mw_{c.name}" if f"mw_{c.name}" in present else f"0.0 AS mw_{c.name}"
            for c in COMPARISONS
        )
        selects.append(
            "SELECT least(l.idx, r.idx) AS a, greatest(l.idx, r.idx) AS b, p.match_weight, "
            f"{weights} FROM {frame.physical_name} p "
            "JOIN credo_records l ON l.record_id = p.record_id_l "
            "JOIN credo_records r ON r.record_id = p.record_id_r"
        )
    if not selects:
        weights = ", ".join(f"0.0::DOUBLE AS mw_{c.name}" for c in COMPARISONS)
        selects.append(f"SELECT 0::INTEGER AS a, 0::INTEGER AS b, 0.0::DOUBLE AS match_weight, "
                       f"{weights} WHERE false")  # fmt: skip
    con.execute(f"CREATE OR REPLACE TABLE {PAIRS_TABLE} AS " + " UNION ALL ".join(selects))
    for frame in frames:
        frame.drop_table_from_database_and_remove_from_cache()
    for name in ("credo_records_new", "credo_records_old"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return int(value(con, f"SELECT count(*) FROM {PAIRS_TABLE}"))


def _weight_literal(level: dict[str, Any]) -> str:
    """A level's match weight as Splink writes it into its SQL (the same text, so DuckDB
    reads the same double): log2(m/u), both clamped as Splink clamps them."""
    if level.get("is_null_level"):
        return "cast(0.0 as float8)"
    m = max(float(level["m_probability"]), 1e-300)
    u = max(float(level["u_probability"]), 1e-300)
    return f"cast({math.log2(m / u)} as float8)"


def _weight_case(comparison: dict[str, Any]) -> str:
    """One comparison's match weight per pair: its levels in order, the first that holds."""
    whens = []
    for level in comparison["comparison_levels"]:
        condition = str(level["sql_condition"])
        if condition.strip().upper() == "ELSE":
            whens.append(f"ELSE {_weight_literal(level)}")
        else:
            whens.append(f"WHEN {condition} THEN {_weight_literal(level)}")
    return "CASE " + " ".join(whens) + " END"


def score_new_pairs(
    con: duckdb.DuckDBPyConnection,
    records: pa.Table,
    model: dict[str, Any],
    min_weight: float,
    new: list[bool],
) -> int:
    """``predict_pairs(..., new=new)`` without Splink: the model's blocking rules and
    comparison levels evaluated in one query, each weight and the sum written as Splink
    writes them, so the pairs and their weights are Splink's bit for bit (tested).

    An incremental run scores about 1% of the records; Splink's import and the validation
    of its settings cost more than that scoring (decision 0306)."""
    indexed = records.append_column("idx", pa.array(range(records.num_rows), pa.int32()))
    flags = pa.table({"idx": pa.array(range(len(new)), pa.int32()), "new": new})
    with registered(con, "credo_records_arrow", indexed):
        con.execute("CREATE OR REPLACE TABLE credo_records AS SELECT * FROM credo_records_arrow")
    with registered(con, "credo_new_flags", flags):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE credo_new_idx AS "
            "SELECT idx FROM credo_new_flags WHERE new"
        )
    rules = [str(r["blocking_rule"]) for r in model["blocking_rules_to_generate_predictions"]]
    blocked = " UNION ".join(
        f"SELECT l.idx AS i, r.idx AS j FROM credo_records l SEMI JOIN credo_new_idx n "
        f"ON n.idx = l.idx JOIN credo_records r ON ({rule}) "
        "AND (r.idx NOT IN (SELECT idx FROM credo_new_idx) OR l.idx < r.idx)"
        for rule in rules
    )
    columns = [c for c in records.column_names if c != "record_id"]
    sides = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in columns)
    present = {c["output_column_name"]: c for c in model["comparisons"]}
    weights = ", ".join(
        f"{_weight_case(present[c.name])} AS mw_{c.name}" if c.name in present
        else f"0.0::DOUBLE AS mw_{c.name}"
        for c in COMPARISONS
    )  # fmt: skip
    lam = float(model["probability_two_random_records_match"])
    prior = math.log2(lam / (1 - lam))
    total = f"cast({prior} as float8) + " + " + ".join(
        f"mw_{c['output_column_name']}" for c in model["comparisons"]
    )
    mw_names = ", ".join(f"mw_{c.name}" for c in COMPARISONS)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {PAIRS_TABLE} AS
        WITH p AS ({blocked}),
        s AS (
            SELECT least(i, j) AS a, greatest(i, j) AS b, {weights}
            FROM (SELECT p.i, p.j, {sides} FROM p JOIN credo_records l ON l.idx = p.i
                  JOIN credo_records r ON r.idx = p.j)
        )
        SELECT a, b, {total} AS match_weight, {mw_names} FROM s
        WHERE ({total}) >= {min_weight}
        """
    )
    con.execute("DROP TABLE credo_new_idx")
    return int(value(con, f"SELECT count(*) FROM {PAIRS_TABLE}"))


def comparisons_json_sql(alias: str) -> str:
    """The match weight of each comparison of a ``PAIRS_TABLE`` row as a JSON object (what
    explanations show), rounded to 4 decimals."""
    fields = ", ".join(f"{c.name} := round({alias}.mw_{c.name}, 4)" for c in COMPARISONS)
    return f"CAST(to_json(struct_pack({fields})) AS VARCHAR)"


def level_weights(model: dict[str, Any]) -> dict[str, dict[int, tuple[str, float]]]:
    """Per comparison, per level (gamma): its label and match weight log2(m/u)."""
    out: dict[str, dict[int, tuple[str, float]]] = {}
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        table: dict[int, tuple[str, float]] = {-1: ("null", 0.0)}
        for gamma, lv in enumerate(reversed(levels)):
            m, u = lv.get("m_probability"), lv.get("u_probability")
            weight = math.log2(m / u) if m and u else 0.0
            table[gamma] = (str(lv.get("label_for_charts", "")), weight)
        out[comp["output_column_name"]] = table
    return out


def prior_weight(model: dict[str, Any]) -> float:
    model.pop("linker_uid", None)  # random per Linker: not part of what the model is
    lam = float(model["probability_two_random_records_match"])
    return math.log2(lam / (1 - lam))
