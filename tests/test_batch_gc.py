import gc
import threading
from collections.abc import Iterator

import pytest

from guanghe.batch_gc import YOUNG_THRESHOLD, batch_collection


@pytest.fixture(autouse=True)
def default_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_young_generation_is_collected_less_often_inside_and_as_before_after() -> None:
    with batch_collection():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_already_set_is_kept() -> None:
    gc.set_threshold(YOUNG_THRESHOLD * 2, 5, 5)
    with batch_collection():
        assert gc.get_threshold() == (YOUNG_THRESHOLD * 2, 5, 5)
    assert gc.get_threshold() == (YOUNG_THRESHOLD * 2, 5, 5)


def test_the_thresholds_come_back_when_the_last_block_ends_in_any_order() -> None:
    entered, leave = threading.Event(), threading.Event()

    def other_block() -> None:
        with batch_collection():
            entered.set()
            leave.wait(5)

    thread = threading.Thread(target=other_block)
    with batch_collection():
        thread.start()
        assert entered.wait(5)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)  # the other block is still open
    leave.set()
    thread.join(5)
    assert gc.get_threshold() == (700, 10, 10)


def test_an_error_inside_still_restores_the_thresholds() -> None:
    @batch_collection()
    def fails() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fails()
    assert gc.get_threshold() == (700, 10, 10)
