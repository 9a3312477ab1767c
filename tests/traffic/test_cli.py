"""``guanghe traffic solve`` over files: a good run, bad files and an infeasible problem."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from guanghe.cli.app import main


def creators_table(n: int = 50, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "creator_id": pa.array(np.arange(1000, 1000 + n), pa.int64()),
            "pool": rng.choice(["hq", "new", "institution"], n).tolist(),
            "group": rng.choice(["food", "games", "travel"], n).tolist(),
            "weight": rng.uniform(0.5, 2, n),
            "saturation": rng.uniform(10, 100, n),
            "scale": rng.uniform(50, 500, n),
            "floor": np.where(rng.random(n) < 0.2, 5.0, 0.0),
            "cap": np.full(n, 2000.0),
        }
    )


BUDGETS = {"pools": {"hq": 3000, "new": 2000, "institution": 1500}, "groups": {"food": 1800}}


def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: pa.Table, budgets: object
) -> tuple[int, str, str, Path]:
    c, b, r = tmp_path / "c.parquet", tmp_path / "b.json", tmp_path / "r.parquet"
    pq.write_table(table, c)
    b.write_text(budgets if isinstance(budgets, str) else json.dumps(budgets))
    argv = ["traffic", "solve", "--creators", str(c), "--budgets", str(b), "--out", str(r)]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err, r


def test_solve_writes_whole_impressions_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = creators_table()
    code, out, _, result = run(tmp_path, capsys, table, BUDGETS)
    assert code == 0
    summary = json.loads(out.strip().splitlines()[-1])
    assert {"objective", "duality_gap", "max_violation", "seconds"} <= set(summary)
    assert abs(summary["duality_gap"]) < 1e-9
    assert summary["max_violation"] < 1e-9
    written = pq.read_table(result)
    assert written.schema.field("impressions").type == pa.int64()
    assert written.column("creator_id").to_pylist() == table.column("creator_id").to_pylist()
    impressions = np.asarray(written.column("impressions"))
    pools = np.asarray(table.column("pool").to_pylist())
    for pool, budget in BUDGETS["pools"].items():
        assert impressions[pools == pool].sum() <= budget
    groups = np.asarray(table.column("group").to_pylist())
    assert impressions[groups == "food"].sum() <= 1800
    phases = summary["phases"]
    assert list(phases) == ["load_kernels", "read", "validate", "solve", "write"]
    assert phases["solve"] == pytest.approx(summary["seconds"], abs=0.01)
    assert summary["unplannable"] == {}


def test_a_file_in_many_row_groups_and_a_pool_without_creators(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c, b, r = tmp_path / "c.parquet", tmp_path / "b.json", tmp_path / "r.parquet"
    table = creators_table(200)
    pq.write_table(table, c, row_group_size=17)  # each row group its own dictionaries
    b.write_text(json.dumps({"pools": {**BUDGETS["pools"], "empty": 999}}))
    with pytest.raises(SystemExit) as exit_info:
        main(["traffic", "solve", "--creators", str(c), "--budgets", str(b), "--out", str(r)])
    assert exit_info.value.code in (0, None)
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["unplannable"] == {"empty": 999}
    impressions = np.asarray(pq.read_table(r).column("impressions"))
    pools = np.asarray(table.column("pool").to_pylist())
    for pool, budget in BUDGETS["pools"].items():
        assert 0 < impressions[pools == pool].sum() <= budget


@pytest.mark.parametrize(
    ("table", "budgets", "message"),
    [
        (creators_table().drop_columns(["scale"]), BUDGETS, "no column 'scale'"),
        (
            creators_table().set_column(3, "weight", pa.array(["x"] * 50)),
            BUDGETS,
            "column 'weight' has type string",
        ),
        (creators_table(), "{not json", "is not valid JSON"),
        (creators_table(), {"pools": {"hq": 1}}, "pool '(new|institution)' is not in"),
        (creators_table(), {"pools": {"hq": -1, "new": 1, "institution": 1}}, ">= 0"),
        (
            creators_table(),
            {"pools": {"hq": 1, "new": 1, "institution": 1}},
            "infeasible: floors of pool",
        ),
        (
            creators_table(),
            {**BUDGETS, "groups": {"games": 0}},
            "infeasible: floors of group 'games'",
        ),
    ],
)
def test_bad_files_get_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    table: pa.Table,
    budgets: object,
    message: str,
) -> None:
    code, out, err, result = run(tmp_path, capsys, table, budgets)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("guanghe: error: ")
    assert re.search(message, err)
    assert not result.exists()


LOADED_KERNELS = """
import sys
from pathlib import Path

from numba.core.registry import CPUDispatcher

from guanghe.traffic import TrafficAllocator, _kernels, curves
from guanghe.traffic.allocation import load_kernels
from guanghe.traffic.files import read_problem


def signatures():
    return {
        (module.__name__, name, sig)
        for module in (_kernels, curves)
        for name, f in vars(module).items()
        if isinstance(f, CPUDispatcher)
        for sig in f.signatures
    }


load_kernels()
loaded = signatures()
TrafficAllocator().solve(read_problem(Path(sys.argv[1]), Path(sys.argv[2])))
print(sorted(f"{m}.{n}" for m, n, _ in signatures() - loaded))
"""


def test_load_kernels_loads_those_a_problem_from_files_runs(tmp_path: Path) -> None:
    """Columns read from Parquet are read-only arrays, for which Numba compiles each kernel
    apart: ``load_kernels`` loads those too, so the solve phase of ``guanghe traffic solve``
    loads no kernel (it loaded seven at 10,000,000 creators)."""
    c, b = tmp_path / "c.parquet", tmp_path / "b.json"
    pq.write_table(creators_table(20_000), c)
    pools = {k: v * 400 for k, v in BUDGETS["pools"].items()}
    b.write_text(json.dumps({"pools": pools, "groups": {"food": 1800 * 400}}))  # one block
    script = tmp_path / "loaded.py"
    script.write_text(LOADED_KERNELS)
    done = subprocess.run(
        [sys.executable, str(script), str(c), str(b)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
