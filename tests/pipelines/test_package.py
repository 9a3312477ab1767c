"""The pipelines package loads its names on first use, so one step loads only what it needs."""

from __future__ import annotations

import importlib
import subprocess
import sys

from guanghe import pipelines


def test_every_exported_name_is_its_modules() -> None:
    for name in pipelines.__all__:
        module = importlib.import_module(f"guanghe.pipelines.{pipelines._MODULE_OF[name]}")
        assert getattr(pipelines, name) is getattr(module, name)
    assert sorted(pipelines.__all__) == sorted(pipelines._MODULE_OF)


def test_a_step_alone_loads_neither_the_other_steps_nor_the_batch_engines() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, guanghe.pipelines.settlement_step; "
            "print(sorted(m for m in ('ibis', 'guanghe.pipelines.cycle', "
            "'guanghe.pipelines.hotspots_step') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == "[]"
