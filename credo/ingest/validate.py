"""Set-based validation: the SQL that turns a source's raw columns into typed event fields.

For each mapped field the generator writes the field's source text (``r_``), its parsed value
(``p_``), the value stored (``v_``: defaults applied, dropped where the row's type lacks the
field) and the reason the row is rejected for that field (``e_``, NULL when fine). Each is
computed once, in its own layer of the query, so a costly parse (a date format, say) is not
repeated for every check. DuckDB evaluates it for all rows at once; no Python loop touches a
row. The functions here only return SQL; ``loader`` runs it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from credo.ingest.events import (
    EVENT_FIELDS,
    EVENT_MODELS,
    FIELDS,
    LISTING_REQUIRES,
    LISTING_REQUIRES_ID,
    PII_FIELDS,
    FieldSpec,
)
from credo.ingest.mapping import ColumnRule, Mapping
from credo.sql import DUCKDB, ident, literal

LISTING_NEEDS = LISTING_REQUIRES | LISTING_REQUIRES_ID

Withheld = dict[str, dict[str, str]]
"""{field: {value: stored instead}}: values never stored, a protected basis the rules profile
forbids (``credo.policy.bases.withheld_for``: ingest sits below policy, so its callers ask)."""

__all__ = ["FieldSQL", "OneRead", "Withheld", "field_sql", "stage_sql"]

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

# Control characters are refused in text, never stripped: a record id that differs from a stored
# one only by a trailing NUL would otherwise load as a second event that prints the same.
# Identifiers and record ids take none; other text (names, addresses) may hold tab, line feed
# and carriage return, which real multi-line fields carry.
_CONTROL = r"[\x00-\x1f\x7f-\x9f]"
_CONTROL_IN_TEXT = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_IDENTIFIERS = frozenset({"source_record_id", "target_record_id", *PII_FIELDS})
_SEPARATOR, _SEPARATOR_RE = "\x1f", r"\x1f"
"""Joins the groups of fields checked for control characters in one match (``_bad``)."""
_NATIVE_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE", "FLOAT")


@dataclass(frozen=True)
class FieldSQL:
    """How one field is read: its text, its parse, and the checks on the parsed value.

    ``value`` is written over ``text`` (a column holding the field's trimmed source text) and,
    for typed Parquet columns, the native column; ``checks`` are (condition on ``{v}``, reason).
    """

    name: str
    text: str
    value: str
    parse_reason: str
    checks: tuple[tuple[str, str], ...]
    control: str | None = None
    """For text: the class of control characters refused (the first of ``checks``)."""


def _text(rule: ColumnRule, types: dict[str, str]) -> str:
    """The field's source value as text, NULL when blank.

    Text columns of the raw table are already trimmed, blanks NULL (``reader``); typed
    (Parquet) columns are cast.
    """
    if rule.value is not None:
        return literal(str(rule.value).lower() if isinstance(rule.value, bool) else rule.value)
    parts = [
        ident(c) if types.get(c, "VARCHAR").upper() == "VARCHAR" else f"CAST({ident(c)} AS VARCHAR)"
        for c in rule.source_columns
    ]
    if len(parts) == 1:
        return parts[0]
    # A composite key is missing when any part is.
    joined = f" || {literal(rule.separator)} || ".join(parts)
    return (
        "CASE WHEN " + " OR ".join(f"{p} IS NULL" for p in parts) + f" THEN NULL ELSE {joined} END"
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
    spec: FieldSpec, rule: ColumnRule, types: dict[str, str], now_limit: dt.datetime, text: str
) -> FieldSQL:
    """Parse and checks for one field; ``text`` names the column holding its source text."""
    native = _native(rule, types)
    kind = spec.kind
    checks: list[tuple[str, str]] = []  # (condition on {v}, reason), checked when v is not NULL
    control = None
    if kind in ("date", "datetime"):
        target = "DATE" if kind == "date" else "TIMESTAMP"
        if native is not None and native.startswith(_NATIVE_TEMPORAL):
            value = f"CAST({ident(str(rule.column))} AS {target})"
            shown = target
        else:
            fmts = rule.formats or DEFAULT_FORMATS[kind]
            # One format is passed as text, not a one-element list: the same result and type,
            # ~30% less CPU per value (0.83 against 1.2 CPU-s at 10M rows, decision 0983).
            fmt_sql = (
                literal(fmts[0])
                if len(fmts) == 1
                else "[" + ", ".join(literal(f) for f in fmts) + "]"
            )
            value = f"CAST(try_strptime({text}, {fmt_sql}) AS {target})"
            shown = " or ".join(fmts)
        parse_reason = f"not a valid date in the format {shown}"
        checks.append((f"{{v}} < {DUCKDB.date(EARLIEST)}", f"implausible date (before {EARLIEST})"))
        if spec.not_future:
            # Whole seconds: the tolerance is counted in hours.
            limit = DUCKDB.timestamp(now_limit.replace(microsecond=0))
            checks.append((f"{{v}} > {limit}", "date is in the future"))
    elif kind in ("money", "int"):
        if native is not None and native.startswith((*_NATIVE_NUMERIC, "DECIMAL")):
            base = f"CAST({ident(str(rule.column))} AS DECIMAL(18,4))"
        else:
            # Thousands separators dropped; ``replace`` copies every string, so only those
            # that hold one are passed to it.
            plain = f"CASE WHEN contains({text}, ',') THEN replace({text}, ',', '') ELSE {text} END"
            base = f"TRY_CAST({plain} AS DECIMAL(18,4))"
        scaled = f"({base} * {rule.scale!r})" if rule.scale is not None else base
        if kind == "int":
            value = f"CASE WHEN {scaled} = round({scaled}) THEN CAST({scaled} AS BIGINT) END"
            parse_reason = "not a whole number"
        else:
            value = f"CAST(round({scaled}, 2) AS DECIMAL(18,2))"
            parse_reason = "not a number"
        if spec.ge is not None:
            word = " (negative)" if spec.ge == 0 else ""
            checks.append((f"{{v}} < {spec.ge}", f"must be at least {spec.ge}{word}"))
        if spec.le is not None:
            checks.append((f"{{v}} > {spec.le}", f"must be at most {spec.le}"))
    elif kind == "bool":
        word = f"lower({_mapped(text, rule)})"
        value = (
            f"CASE WHEN {word} IN ({', '.join(map(literal, TRUE_WORDS))}) THEN TRUE "
            f"WHEN {word} IN ({', '.join(map(literal, FALSE_WORDS))}) THEN FALSE END"
        )
        parse_reason = "not true or false"
    elif kind == "enum":
        mapped = _mapped(text, rule)
        choices = ", ".join(map(literal, spec.choices))
        value = f"CASE WHEN {mapped} IN ({choices}) THEN {mapped} END"
        parse_reason = f"not one of: {', '.join(spec.choices)}"
    else:
        value = text
        parse_reason = "not text"
        control = _CONTROL if spec.name in _IDENTIFIERS else _CONTROL_IN_TEXT
        checks.append(
            (f"regexp_matches({{v}}, {literal(control)})", "contains a control character")
        )
        if spec.pattern is not None:
            checks.append(
                ("NOT regexp_full_match({v}, " + literal(spec.pattern) + ")",
                 f"does not match the pattern {spec.pattern}")
            )  # fmt: skip
    return FieldSQL(spec.name, text, value, parse_reason, tuple(checks), control)


@dataclass(frozen=True)
class _Layers:
    """The pieces of the validation SQL: per field its source text (``r_``, layer 1), its parse
    (``p_``, layer 2), the value stored and the reason it is refused (over ``r_``, ``p_`` and
    ``__etype``)."""

    texts: list[str]
    parses: list[str]
    values: dict[str, str]
    errors: dict[str, str]
    mapped: list[str]
    names: list[str]
    bad: list[str]
    """Conditions, one true exactly when some ``errors`` is not NULL (see :func:`_bad`)."""


def _literal_parts(rule: ColumnRule) -> list[str]:
    """The text ``_text`` puts into a field's value from the mapping, not from the file."""
    if rule.value is not None:
        return [str(rule.value)]
    return [rule.separator] if len(rule.source_columns) > 1 else []


def _layers(
    mapping: Mapping,
    types: dict[str, str],
    now_limit: dt.datetime,
    withheld: Withheld | None,
    plain: bool = False,
) -> _Layers:
    """``plain``: the file's text holds no control character (``plain.PlainScan``); the
    control-character check then runs only if the mapping's own text could bring one."""
    etype_rule = mapping.event_type
    etype = _mapped("r_event_type", etype_rule)
    known = ", ".join(map(literal, EVENT_MODELS))
    texts = [f"{_text(etype_rule, types)} AS r_event_type"]
    parses = [f"CASE WHEN {etype} IN ({known}) THEN {etype} END AS __etype"]
    values: dict[str, str] = {}
    errors = {
        "event_type": f"CASE WHEN r_event_type IS NULL THEN 'missing' WHEN __etype IS NULL "
        f"THEN {literal('not one of: ' + ', '.join(EVENT_MODELS))} END"
    }
    names: list[str] = []
    mapped: list[str] = []
    quick: dict[str, str] = {"event_type": errors["event_type"]}
    controlled: dict[str, list[str]] = {}  # control class -> the text checked for it
    types_used = mapping.event_types()
    for name in sorted(FIELDS):
        spec = FIELDS[name]
        applies = [t for t in types_used if name in EVENT_FIELDS[t]]
        if not applies:
            continue
        names.append(name)
        r, p = ident(f"r_{name}"), ident(f"p_{name}")
        rule = mapping.fields.get(name)
        if rule is None:
            texts.append(f"CAST(NULL AS VARCHAR) AS {r}")
            parses.append(f"CAST(NULL AS {spec.sql_type}) AS {p}")
            parse_error = quick_error = "NULL"
            control = None
        else:
            mapped.append(name)
            f = field_sql(spec, rule, types, now_limit, r)
            texts.append(f"{_text(rule, types)} AS {r}")
            parses.append(f"CAST({f.value} AS {spec.sql_type}) AS {p}")
            whens = [f"WHEN {c.replace('{v}', p)} THEN {literal(why)}" for c, why in f.checks]
            unparsed = f"CASE WHEN {r} IS NOT NULL AND {p} IS NULL THEN {literal(f.parse_reason)} "
            parse_error = f"{unparsed}{' '.join(whens)} END"
            quick_error = parse_error
            control = f.control
            if control is not None:  # checked with the field's peers (``_bad``)
                quick_error = f"{unparsed}{' '.join(whens[1:])} END"
                if plain and not any(re.search(control, t) for t in _literal_parts(rule)):
                    control = None  # nothing in this field's value can hold one
        applies_sql = ", ".join(map(literal, applies))
        if control is not None:
            controlled.setdefault(control, []).append(
                f"CASE WHEN __etype IN ({applies_sql}) THEN {p} END"
            )
        defaults = " ".join(
            f"WHEN __etype = {literal(t)} THEN CAST({literal(d)} AS {spec.sql_type})"
            for t in applies
            if (d := EVENT_FIELDS[t][name].default) is not None
        )
        stored = f"coalesce({p}, CASE {defaults} END)" if defaults else p
        if withheld and name in withheld:
            swaps = " ".join(
                f"WHEN {literal(k)} THEN {literal(v)}" for k, v in sorted(withheld[name].items())
            )
            stored = f"CASE {stored} {swaps} ELSE {stored} END"
        # Fields that the row's own type lacks are dropped, not stored against it.
        values[name] = f"CASE WHEN __etype IN ({applies_sql}) THEN {stored} END"
        required = [t for t in applies if EVENT_FIELDS[t][name].required]
        missing = ""
        if required:
            missing = (
                f"WHEN __etype IN ({', '.join(map(literal, required))}) AND {p} IS NULL "
                f"AND {r} IS NULL THEN 'missing (required for ' || __etype || ' events)' "
            )
        if name in LISTING_NEEDS and "court_judgment" in applies:
            # A listing needs its basis and the person's identity number (RULES R-BL-1/5).
            reason = literal("missing: " + LISTING_NEEDS[name])
            missing += (
                f"WHEN __etype = 'court_judgment' AND {ident('p_judgment_status')} = 'listed' "
                f"AND {p} IS NULL AND {r} IS NULL THEN {reason} "
            )
        errors[name] = f"CASE {missing}WHEN __etype IN ({applies_sql}) THEN {parse_error} END"
        quick[name] = f"CASE {missing}WHEN __etype IN ({applies_sql}) THEN {quick_error} END"
    return _Layers(texts, parses, values, errors, mapped, names, _bad(quick, controlled))


def _bad(quick: dict[str, str], controlled: dict[str, list[str]]) -> list[str]:
    """Conditions whose disjunction is true exactly when a row has a reason to be rejected.

    ``quick``: each field's reason without its control-character check; ``controlled``: per
    class of control characters, the text of each field refused for one (NULL where the field
    does not apply). All of them are checked by one regular expression per row: the fields of
    each class are concatenated (``concat`` skips NULLs, never returns NULL), the classes'
    groups joined by ``_SEPARATOR``, and the whole must fully match the negated classes in
    turn (``[^ids]*<sep>[^text]*``). The separator is in every class, so no negated class can
    consume it: the k-th separator of the row ends the k-th group, and a field that holds the
    separator itself (a refused character) leaves one separator too many, which fails the
    match. So the row matches exactly when no group holds a character of its class. One call
    instead of one per class (decision 0982): 10M benchmark rows, 2.65-2.77 CPU-s against
    3.10-3.15 (docs/decisions/0984).
    """
    bad = [f"({e}) IS NOT NULL" for e in quick.values()]
    if controlled:
        if not all(re.fullmatch(control, _SEPARATOR) for control in controlled):
            raise ValueError("the control-character check's separator must be in every class")
        texts = f", chr({ord(_SEPARATOR)}), ".join(", ".join(t) for t in controlled.values())
        negated = _SEPARATOR_RE.join(f"[^{control[1:-1]}]*" for control in controlled)
        bad.append(f"NOT regexp_full_match(concat({texts}), {literal(negated)})")
    return bad


def _parsed(layers: _Layers, source: str) -> str:
    """Layers 1 and 2 over ``source``: its columns, ``r_`` and ``p_`` of every field."""
    layer1 = f"SELECT *, {', '.join(layers.texts)} FROM {source}"
    return f"SELECT *, {', '.join(layers.parses)} FROM ({layer1})"


def stage_sql(
    mapping: Mapping,
    types: dict[str, str],
    now_limit: dt.datetime,
    raw_table: str = "raw",
    withheld: Withheld | None = None,
) -> tuple[str, list[str]]:
    """SELECT giving, per raw row, ``row_no``, ``event_type`` and per field ``v_``/``r_``/``e_``.

    ``raw_table`` (a table or a subquery) holds the file's columns and each row's number in the
    file, ``__row_no`` (``reader.ROW_NO``). Returns the SQL and the names of the fields it
    covers (those of the mapping's types).
    ``withheld``: {field: {value: stored instead}}, values never stored (a protected basis the
    rules profile forbids, ``credo.policy.bases.withheld_values``).
    """
    layers = _layers(mapping, types, now_limit, withheld)
    final = [
        "__row_no AS row_no",
        "__etype AS event_type",
        "r_event_type",
        f"{layers.errors['event_type']} AS e_event_type",
    ]
    for name in layers.names:
        final.append(f"{layers.values[name]} AS {ident('v_' + name)}")
        final.append(ident("r_" + name))
        final.append(f"{layers.errors[name]} AS {ident('e_' + name)}")
    sql = "SELECT\n  " + ",\n  ".join(final) + f"\nFROM ({_parsed(layers, raw_table)})"
    return sql, layers.names


def _exact_as_text(sql_type: str) -> bool:
    """Whether ``field_sql`` reads a column of this type natively (not as text); its text form
    casts back to the same value."""
    t = sql_type.upper()
    return t.startswith((*_NATIVE_TEMPORAL, *_NATIVE_NUMERIC, "DECIMAL"))


class OneRead:
    """The SQL of a load that reads its file once (docs/decisions/0963).

    ``staged`` is what the load keeps of each row, parsed and checked once as the file is read:
    the row number, the event type, the parse of each mapped field (``p_``), ``is_bad``, and
    for a bad row only, its source columns as text (``bad_source``). ``typed`` gives the values
    stored (``v_``) from the parses; ``bad_rows`` evaluates :func:`stage_sql` again on the bad
    rows alone, from their own source columns, for the reason of each refused field: the same
    reasons as on the file, since the text and the SQL are the same.
    ``plain``: the file's text is proven to hold no control character (``plain.PlainScan``), so
    ``is_bad`` leaves that check out; ``bad_rows`` still makes it, field by field.
    """

    def __init__(
        self,
        mapping: Mapping,
        types: dict[str, str],
        now_limit: dt.datetime,
        withheld: Withheld | None = None,
        plain: bool = False,
    ) -> None:
        self.mapping, self.types, self.now_limit, self.withheld = (
            mapping, types, now_limit, withheld,
        )  # fmt: skip
        self.layers = _layers(mapping, types, now_limit, withheld, plain)
        self.names = self.layers.names

    def staged(self, source: str) -> str:
        """SELECT of the staged rows from ``source`` (the file's columns and ``__row_no``)."""
        layers = self.layers
        bad = " OR ".join(layers.bad)
        columns = ", ".join(f"CAST({ident(c)} AS VARCHAR)" for c in self.types)
        parses = "".join(f", {ident('p_' + n)}" for n in layers.mapped)
        return (
            f"SELECT __row_no AS row_no, __etype AS event_type{parses}, is_bad, "
            f"CASE WHEN is_bad THEN [{columns}] END AS bad_source "
            f"FROM (SELECT *, ({bad}) AS is_bad FROM ({_parsed(layers, source)}))"
        )

    def typed(self, staged: str) -> str:
        """SELECT of ``row_no``, ``event_type``, ``is_bad`` and every field's ``v_``."""
        unmapped = "".join(
            f", CAST(NULL AS {FIELDS[n].sql_type}) AS {ident('p_' + n)}"
            for n in self.names
            if n not in self.layers.mapped
        )
        values = ", ".join(f"{self.layers.values[n]} AS {ident('v_' + n)}" for n in self.names)
        return (
            f"SELECT row_no, event_type, is_bad, {values} "
            f"FROM (SELECT *, event_type AS __etype{unmapped} FROM {staged})"
        )

    def bad_rows(self, staged: str) -> str:
        """:func:`stage_sql` over the bad rows of ``staged``, rebuilt from ``bad_source``."""
        types = {c: t if _exact_as_text(t) else "VARCHAR" for c, t in self.types.items()}
        columns = ", ".join(
            (f"CAST(bad_source[{i}] AS {t})" if t != "VARCHAR" else f"bad_source[{i}]")
            + f" AS {ident(c)}"
            for i, (c, t) in enumerate(types.items(), start=1)
        )
        source = f"(SELECT row_no AS __row_no, {columns} FROM {staged} WHERE is_bad)"
        return stage_sql(self.mapping, types, self.now_limit, source, self.withheld)[0]
