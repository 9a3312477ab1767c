"""One local Spark session for the whole test session (started on first use)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from guanghe.pipelines.engines import spark_session

    session = spark_session("local[2]", "guanghe-tests")
    yield session
    session.stop()
