"""Metadata filters and group ACL, compiled to SQL that runs *inside* the search query.

Filter syntax (clauses joined with ``and``; values may be quoted)::

    department = hr                 equality          doc_type != faq
    department in (hr, finance)     in-list           format not in (pdf)
    effective_date >= 2025-06-01    range (ISO dates compare as text, numbers as numbers)
    exists(owner)                   field present     not exists(owner)

Fields: any metadata key of an ingested document, plus ``id``, ``title``, ``format``,
``source_path`` and ``version``. At most :data:`MAX_CLAUSES` clauses in all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ragtune.errors import UsageError

BUILTIN_FIELDS = {
    "id": "d.id",
    "title": "d.title",
    "format": "d.format",
    "source_path": "d.source_path",
    "version": "d.version",
}
# Far more than a real question needs (an in-list takes any number of values), and far below
# what SQLite's parser and expression depth limits allow.
MAX_CLAUSES = 50
OPERATORS = ("=", "!=", "in", "not in", ">=", "<=", ">", "<", "exists", "not exists")
SYNTAX_HELP = (
    "use FIELD = V, FIELD != V, FIELD in (A, B), FIELD not in (A, B), FIELD >= V, "
    "FIELD <= V, FIELD > V, FIELD < V, exists(FIELD), not exists(FIELD); join with 'and'"
)

_EXISTS = re.compile(r"^(not\s+)?exists\s*\(\s*([\w.-]+)\s*\)$", re.I)
_IN = re.compile(r"^([\w.-]+)\s+(not\s+in|in)\s*[(\[](.*)[)\]]$", re.I | re.S)
_CMP = re.compile(r"^([\w.-]+)\s*(==|!=|>=|<=|=|>|<)\s*(.+)$", re.S)
_AND = re.compile(r"\s+and\s+", re.I)


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    values: tuple[str, ...] = ()


@dataclass
class Where:
    """SQL over the ``documents`` table aliased ``d``, with its parameters."""

    sql: str
    params: list[object] = field(default_factory=list)

    def and_(self, other: Where | None) -> Where:
        if other is None:
            return self
        return Where(f"({self.sql}) AND ({other.sql})", self.params + other.params)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _split_list(body: str) -> tuple[str, ...]:
    items = tuple(_unquote(v) for v in body.split(",") if v.strip())
    if not items:
        raise UsageError("an 'in' list needs at least one value", SYNTAX_HELP)
    return items


def parse_clause(text: str) -> Condition:
    clause = text.strip()
    if m := _EXISTS.match(clause):
        return Condition(m.group(2), "not exists" if m.group(1) else "exists")
    if m := _IN.match(clause):
        op = "not in" if m.group(2).lower().startswith("not") else "in"
        return Condition(m.group(1), op, _split_list(m.group(3)))
    if m := _CMP.match(clause):
        op = "=" if m.group(2) == "==" else m.group(2)
        value = _unquote(m.group(3))
        if not value:
            raise UsageError(f"missing value in filter clause {clause!r}", SYNTAX_HELP)
        return Condition(m.group(1), op, (value,))
    raise UsageError(f"malformed filter clause {clause!r}", SYNTAX_HELP)


def parse_filter(expressions: str | Iterable[str] | None) -> list[Condition]:
    """Parse one or more filter expressions (all must hold); more than :data:`MAX_CLAUSES`
    clauses in all raise."""
    if expressions is None:
        return []
    if isinstance(expressions, str):
        expressions = [expressions]
    parts: list[str] = []
    for expression in expressions:
        if not expression.strip():
            raise UsageError("empty filter expression", SYNTAX_HELP)
        _check_unicode(expression)
        parts.extend(_AND.split(expression.strip()))
    if len(parts) > MAX_CLAUSES:
        raise UsageError(
            f"the filter has {len(parts)} clauses, over the limit of {MAX_CLAUSES}",
            "use 'FIELD in (A, B, ...)' for many values of one field, or drop repeated clauses",
        )
    return [parse_clause(part) for part in parts]


def _check_unicode(expression: str) -> None:
    # Text from argv may hold lone surrogates (undecodable bytes, surrogateescape); SQLite
    # cannot bind them and would fail with UnicodeEncodeError in the middle of a search.
    try:
        expression.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(
            f"filter expression {expression[:80]!r} is not valid Unicode (character "
            f"{exc.start}: a lone surrogate such as \\ud800)",
            "send UTF-8 text",
        ) from None


def _as_number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _builtin_sql(column: str, cond: Condition) -> Where:
    if cond.op in ("exists", "not exists"):
        return Where("1=1" if cond.op == "exists" else "1=0")
    if cond.op in ("in", "not in"):
        marks = ",".join("?" * len(cond.values))
        return Where(f"{column} {cond.op.upper()} ({marks})", list(cond.values))
    value = cond.values[0]
    num = _as_number(value) if column == "d.version" else None
    return Where(f"{column} {cond.op} ?", [num if num is not None else value])


def _meta_sql(cond: Condition) -> Where:
    base = "SELECT 1 FROM doc_meta m WHERE m.doc_id = d.id AND m.key = ?"
    if cond.op in ("exists", "not exists"):
        prefix = "EXISTS" if cond.op == "exists" else "NOT EXISTS"
        return Where(f"{prefix} ({base})", [cond.field])
    if cond.op in ("=", "!=", "in", "not in"):
        marks = ",".join("?" * len(cond.values))
        prefix = "EXISTS" if cond.op in ("=", "in") else "NOT EXISTS"
        return Where(f"{prefix} ({base} AND m.value IN ({marks}))", [cond.field, *cond.values])
    value = cond.values[0]
    num = _as_number(value)
    if num is not None:
        return Where(f"EXISTS ({base} AND m.num {cond.op} ?)", [cond.field, num])
    return Where(f"EXISTS ({base} AND m.value {cond.op} ?)", [cond.field, value])


def compile_filter(conditions: list[Condition], known_fields: Iterable[str]) -> Where | None:
    """SQL for ``conditions``; an unknown field raises with the list of known ones."""
    if not conditions:
        return None
    known = set(known_fields)
    parts: list[Where] = []
    for cond in conditions:
        if cond.field in BUILTIN_FIELDS:
            parts.append(_builtin_sql(BUILTIN_FIELDS[cond.field], cond))
        elif cond.field in known:
            parts.append(_meta_sql(cond))
        else:
            choices = ", ".join(sorted(known | set(BUILTIN_FIELDS)))
            raise UsageError(f"unknown filter field {cond.field!r}", f"known fields: {choices}")
    # One flat AND chain: nesting each clause one level deeper ("((a) AND (b)) AND (c)")
    # overflowed SQLite's parser stack at ~80 clauses.
    sql = " AND ".join(f"({p.sql})" for p in parts)
    return Where(sql, [param for p in parts for param in p.params])


def acl_where(groups: Iterable[str] | None) -> Where | None:
    """Documents readable by a caller in ``groups``: public ones plus those sharing a group.
    ``None`` means no restriction (the local owner); an empty list sees public docs only."""
    if groups is None:
        return None
    names = sorted({g.strip() for g in groups if g.strip()})
    public = "NOT EXISTS (SELECT 1 FROM doc_groups g WHERE g.doc_id = d.id)"
    if not names:
        return Where(public)
    marks = ",".join("?" * len(names))
    shared = f"EXISTS (SELECT 1 FROM doc_groups g WHERE g.doc_id = d.id AND g.grp IN ({marks}))"
    return Where(f"{public} OR {shared}", list(names))
