"""Allocation problems from files: creators as Parquet, budgets as JSON; results as Parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from guanghe.errors import InvalidInput
from guanghe.traffic.problem import AllocationProblem, IntArray

FLOAT_COLUMNS = ("weight", "saturation", "scale", "floor", "cap")


def read_budgets(path: Path) -> tuple[dict[str, float], dict[str, float]]:
    """``{"pools": {name: budget}, "groups": {name: cap}}`` from ``path``; groups optional."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read budgets {path}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"budgets {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("pools"), dict):
        raise InvalidInput(f'budgets {path} must be an object with a "pools" object')
    extra = sorted(set(data) - {"pools", "groups"})
    if extra:
        raise InvalidInput(f"budgets {path} has unknown key {extra[0]!r}")
    groups = data.get("groups", {})
    if not isinstance(groups, dict):
        raise InvalidInput(f'budgets {path}: "groups" must be an object')
    return _amounts(path, "pools", data["pools"]), _amounts(path, "groups", groups)


def _amounts(path: Path, key: str, raw: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"budgets {path}: {key}[{name!r}] must be a number, not {value!r}")
        if not np.isfinite(value) or value < 0:
            raise InvalidInput(f"budgets {path}: {key}[{name!r}] must be finite and >= 0")
        out[name] = float(value)
    return out


def read_problem(creators: Path, budgets: Path) -> AllocationProblem:
    """The problem in ``creators`` (Parquet) and ``budgets`` (JSON), validated."""
    return AllocationProblem(**read_columns(creators, budgets))


def read_columns(creators: Path, budgets: Path) -> dict[str, Any]:
    """The arguments of :class:`AllocationProblem` from ``creators`` (Parquet) and ``budgets``
    (JSON), checked for shape (columns, types, nulls, pools with a budget) but not yet for
    values: constructing the problem validates those.

    Only the needed columns are read; ``pool`` and ``group`` stay dictionary-encoded (as
    Parquet stores them), so no string per creator is ever made.
    """
    pools, groups = read_budgets(budgets)
    try:
        with pq.ParquetFile(creators, read_dictionary=["pool", "group"]) as file:
            _check_schema(creators, file.schema_arrow)
            table = file.read(columns=["creator_id", "pool", "group", *FLOAT_COLUMNS])
    except (OSError, pa.ArrowException) as exc:
        raise InvalidInput(f"cannot read creators {creators}: {exc}") from exc
    codes = {}
    for column, known in (("pool", list(pools)), ("group", list(groups))):
        values = table.column(column)
        if values.null_count:
            row = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
            raise InvalidInput(f"creators {creators}: row {row} has no {column}")
        codes[column], names = _codes(values, known)
        if column == "pool" and len(names) > len(pools):
            unknown = names[len(pools)]
            raise InvalidInput(f"creators {creators}: pool {unknown!r} is not in {budgets}")
        if column == "group":
            group_names = tuple(names)
    arrays = {c: _floats(creators, table, c) for c in FLOAT_COLUMNS}
    return {
        "creator_id": _ids(creators, table),
        "pool": codes["pool"],
        "group": codes["group"],
        "pool_names": tuple(pools),
        "pool_budgets": np.array(list(pools.values()), dtype=np.float64),
        "group_names": group_names,
        "group_caps": np.array([groups.get(g, np.inf) for g in group_names], dtype=np.float64),
        **arrays,
    }


def write_impressions(path: Path, creator_id: IntArray, impressions: IntArray) -> None:
    """Write ``creator_id`` and ``impressions`` (int64) to ``path`` atomically."""
    table = pa.table({"creator_id": creator_id, "impressions": impressions})
    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial)
    partial.replace(path)


def _check_schema(path: Path, schema: pa.Schema) -> None:
    wanted = {"creator_id": pa.types.is_integer, "pool": _is_text, "group": _is_text}
    wanted |= dict.fromkeys(FLOAT_COLUMNS, _is_number)
    for name, check in wanted.items():
        if name not in schema.names:
            raise InvalidInput(f"creators {path} has no column {name!r}")
        if not check(schema.field(name).type):
            raise InvalidInput(
                f"creators {path}: column {name!r} has type {schema.field(name).type}"
            )


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _is_number(kind: pa.DataType) -> bool:
    return bool(pa.types.is_floating(kind) or pa.types.is_integer(kind))


def _codes(values: pa.ChunkedArray, known: list[str]) -> tuple[IntArray, list[str]]:
    """Codes of ``values`` into ``known`` followed by any names not in it (in order met).

    Each chunk is dictionary-encoded (read so, or encoded here); its indices are mapped to
    the codes through its own dictionary, one gather per chunk.
    """
    names = list(known)
    index = {name: k for k, name in enumerate(names)}
    out = np.empty(len(values), np.int64)
    at = 0
    for chunk in values.chunks:
        encoded = chunk if pa.types.is_dictionary(chunk.type) else chunk.dictionary_encode()
        mapping = np.empty(len(encoded.dictionary), np.int64)
        for k, name in enumerate(encoded.dictionary.to_pylist()):
            if name not in index:
                index[name] = len(names)
                names.append(name)
            mapping[k] = index[name]
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        out[at : at + len(chunk)] = mapping[indices]
        at += len(chunk)
    return out, names


def _floats(path: Path, table: pa.Table, column: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    values = table.column(column)
    if values.null_count:
        row = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
        raise InvalidInput(f"creators {path}: row {row} has no {column}")
    return np.asarray(values.to_numpy(), dtype=np.float64)


def _ids(path: Path, table: pa.Table) -> IntArray:
    values = table.column("creator_id")
    if values.null_count:
        raise InvalidInput(f"creators {path}: a row has no creator_id")
    return np.asarray(values.to_numpy(), dtype=np.int64)
