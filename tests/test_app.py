"""The application's assembly: the API and the dashboard never import each other."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _modules_after_import(module: str) -> set[str]:
    """The ``guanghe`` modules a fresh interpreter holds after importing ``module``."""
    script = (
        f"import sys, {module}\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('guanghe')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


@pytest.mark.parametrize(
    ("imported", "absent"),
    [
        ("guanghe.api", "guanghe.web"),
        ("guanghe.api.routers.profile_slots", "guanghe.web"),
        ("guanghe.web", "guanghe.api"),
        ("guanghe.http.deps", "guanghe.api"),
        ("guanghe.http.deps", "guanghe.web"),
    ],
)
def test_the_adapters_do_not_import_each_other(imported: str, absent: str) -> None:
    loaded = _modules_after_import(imported)
    assert imported in loaded
    assert not {m for m in loaded if m == absent or m.startswith(f"{absent}.")}


def test_the_app_assembles_both_and_the_api_still_answers_create_app() -> None:
    loaded = _modules_after_import("guanghe.app")
    assert {"guanghe.api.routers.profile_slots", "guanghe.web.pages"} <= loaded
    import guanghe.api
    import guanghe.app

    assert guanghe.api.create_app is guanghe.app.create_app
    with pytest.raises(AttributeError):
        _ = guanghe.api.no_such_name
