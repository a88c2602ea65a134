"""Set-based validation: the SQL that turns a source's raw columns into typed event fields.

For each mapped field the generator writes two expressions over the raw staging table: the
parsed value, and the reason the row is rejected for that field (NULL when it is fine). DuckDB
evaluates them for all rows at once; no Python loop touches a row. The functions here only
return SQL; ``loader`` runs it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from credo.ingest.events import EVENT_FIELDS, EVENT_MODELS, FIELDS, FieldSpec
from credo.ingest.mapping import ColumnRule, Mapping
from credo.sql import ident, literal

__all__ = ["FieldSQL", "field_sql", "stage_sql"]

DEFAULT_FORMATS: dict[str, list[str]] = {
    "date": ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"],
    "datetime": [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S.%f",
        "%Y-%m-%dT%H:%M:%S.%f",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
    ],
}
TRUE_WORDS = ("true", "t", "1", "yes", "y")
FALSE_WORDS = ("false", "f", "0", "no", "n")
EARLIEST = dt.date(1900, 1, 1)

_NATIVE_TEMPORAL = ("DATE", "TIMESTAMP")
_NATIVE_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE", "FLOAT")


@dataclass(frozen=True)
class FieldSQL:
    """The parsed value of one field, the raw text behind it, and why it is rejected."""

    name: str
    value: str
    raw: str
    error: str


def _text(rule: ColumnRule, types: dict[str, str]) -> str:
    """The field's source value as trimmed text, NULL when blank."""
    if rule.value is not None:
        return literal(str(rule.value).lower() if isinstance(rule.value, bool) else rule.value)
    cols = rule.source_columns
    parts = [f"nullif(trim(CAST({ident(c)} AS VARCHAR)), '')" for c in cols]
    if len(parts) == 1:
        return parts[0]
    # A composite key is missing when any part is.
    return (
        "CASE WHEN "
        + " OR ".join(f"{p} IS NULL" for p in parts)
        + " THEN NULL ELSE "
        + (f" || {literal(rule.separator)} || ".join(parts) + " END")
    )


def _native(rule: ColumnRule, types: dict[str, str]) -> str | None:
    if rule.column is None:
        return None
    return types.get(rule.column, "VARCHAR").upper()


def _mapped(text: str, rule: ColumnRule) -> str:
    if not rule.map:
        return text
    whens = " ".join(
        f"WHEN {literal(k)} THEN {literal(str(v).lower() if isinstance(v, bool) else v)}"
        for k, v in sorted(rule.map.items())
    )
    return f"coalesce(CASE {text} {whens} END, {text})"


def field_sql(
    spec: FieldSpec, rule: ColumnRule, types: dict[str, str], now_limit: dt.datetime
) -> FieldSQL:
    raw = _text(rule, types)
    native = _native(rule, types)
    kind = spec.kind
    problems: list[tuple[str, str]] = []  # (condition on {v}, reason), checked when v is not NULL
    if kind in ("date", "datetime"):
        target = "DATE" if kind == "date" else "TIMESTAMP"
        if native is not None and native.startswith(_NATIVE_TEMPORAL):
            value = f"CAST({ident(str(rule.column))} AS {target})"
        else:
            fmts = rule.formats or DEFAULT_FORMATS[kind]
            fmt_sql = "[" + ", ".join(literal(f) for f in fmts) + "]"
            value = f"CAST(try_strptime({raw}, {fmt_sql}) AS {target})"
        shown = " or ".join(fmts) if not (native or "").startswith(_NATIVE_TEMPORAL) else target
        parse_reason = f"not a valid date in the format {shown}"
        problems.append((f"{{v}} < DATE '{EARLIEST}'", f"implausible date (before {EARLIEST})"))
        if spec.not_future:
            problems.append(
                (f"{{v}} > TIMESTAMP '{now_limit:%Y-%m-%d %H:%M:%S}'", "date is in the future")
            )
    elif kind in ("money", "int"):
        target = spec.sql_type
        scale = rule.scale
        if native is not None and native.startswith((*_NATIVE_NUMERIC, "DECIMAL")):
            base = f"CAST({ident(str(rule.column))} AS DECIMAL(38,6))"
        else:
            base = f"TRY_CAST(replace({raw}, ',', '') AS DECIMAL(38,6))"
        scaled = f"({base} * {scale!r})" if scale is not None else base
        if kind == "int":
            value = f"CASE WHEN {scaled} = round({scaled}) THEN CAST({scaled} AS BIGINT) END"
            parse_reason = "not a whole number"
        else:
            value = f"CAST(round({scaled}, 2) AS DECIMAL(18,2))"
            parse_reason = "not a number"
        if spec.ge is not None:
            word = " (negative)" if spec.ge == 0 else ""
            problems.append((f"{{v}} < {spec.ge}", f"must be at least {spec.ge}{word}"))
        if spec.le is not None:
            problems.append((f"{{v}} > {spec.le}", f"must be at most {spec.le}"))
    elif kind == "bool":
        text = f"lower({_mapped(raw, rule)})"
        value = (
            f"CASE WHEN {text} IN ({', '.join(map(literal, TRUE_WORDS))}) THEN TRUE "
            f"WHEN {text} IN ({', '.join(map(literal, FALSE_WORDS))}) THEN FALSE END"
        )
        parse_reason = "not true or false"
    elif kind == "enum":
        mapped = _mapped(raw, rule)
        choices = ", ".join(map(literal, spec.choices))
        value = f"CASE WHEN {mapped} IN ({choices}) THEN {mapped} END"
        parse_reason = f"not one of: {', '.join(spec.choices)}"
    else:
        value = raw
        parse_reason = "not text"
        if spec.pattern is not None:
            problems.append(
                (
                    "NOT regexp_full_match({v}, " + literal(spec.pattern) + ")",
                    f"does not match the pattern {spec.pattern}",
                )
            )
    checks = " ".join(
        f"WHEN {cond.replace('{v}', '(' + value + ')')} THEN {literal(reason)}"
        for cond, reason in problems
    )
    error = (
        f"CASE WHEN {raw} IS NOT NULL AND ({value}) IS NULL THEN {literal(parse_reason)} "
        f"{checks} END"
    )
    return FieldSQL(spec.name, value, raw, error)


def stage_sql(
    mapping: Mapping, types: dict[str, str], now_limit: dt.datetime, raw_table: str = "raw"
) -> tuple[str, list[str]]:
    """SELECT producing one typed row per raw row, with an ``e_<field>`` reason column each.

    Returns the SQL and the names of the fields it validates.
    """
    etype_rule = mapping.event_type
    etype_raw = _text(etype_rule, types)
    etype = _mapped(etype_raw, etype_rule)
    known = ", ".join(map(literal, EVENT_MODELS))
    cols = [
        "__row_no AS row_no",
        "__etype AS event_type",
        f"{etype_raw} AS r_event_type",
        f"CASE WHEN {etype_raw} IS NULL THEN 'missing' WHEN __etype IS NULL "
        f"THEN {literal('not one of: ' + ', '.join(EVENT_MODELS))} END AS e_event_type",
    ]
    names: list[str] = []
    types_used = mapping.event_types()
    for name in sorted(FIELDS):
        spec = FIELDS[name]
        applies = [t for t in types_used if name in EVENT_FIELDS[t]]
        if not applies:
            continue
        rule = mapping.fields.get(name)
        names.append(name)
        required = [t for t in applies if EVENT_FIELDS[t][name].required]
        defaults = {t: EVENT_FIELDS[t][name].default for t in applies}
        if rule is None:
            value, raw, error = "NULL", "NULL", "NULL"
        else:
            f = field_sql(spec, rule, types, now_limit)
            value, raw, error = f.value, f.raw, f.error
        default_cases = " ".join(
            f"WHEN __etype = {literal(t)} THEN CAST({literal(d)} AS {spec.sql_type})"
            for t, d in sorted(defaults.items())
            if d is not None
        )
        if default_cases:
            value = f"coalesce({value}, CASE {default_cases} END)"
        # Fields that the row's own type lacks are dropped, not stored against it.
        applies_sql = ", ".join(map(literal, applies))
        cols.append(
            f"CAST(CASE WHEN __etype IN ({applies_sql}) THEN {value} END AS {spec.sql_type}) "
            f"AS {ident('v_' + name)}"
        )
        cols.append(f"{raw} AS {ident('r_' + name)}")
        missing = ""
        if required:
            req_sql = ", ".join(map(literal, required))
            missing = (
                f"WHEN __etype IN ({req_sql}) AND ({value}) IS NULL AND {raw} IS NULL "
                f"THEN 'missing (required for ' || __etype || ' events)' "
            )
        err = f"CASE {missing}WHEN __etype IN ({applies_sql}) THEN {error} END"
        cols.append(f"{err} AS {ident('e_' + name)}")
    inner = (
        f"SELECT *, rowid + 1 AS __row_no, "
        f"CASE WHEN {etype} IN ({known}) THEN {etype} END AS __etype FROM {raw_table}"
    )
    sql = "SELECT\n  " + ",\n  ".join(cols) + f"\nFROM ({inner})"
    return sql, names
