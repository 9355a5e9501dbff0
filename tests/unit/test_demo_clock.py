"""The demo's clock: while the demo lives through its past, core.now() (and so every `now` column
default) reads it; on the way out, whatever happened, the real clock is back."""
from datetime import datetime, timedelta, timezone

import pytest

from field import core
from field.demo.clock import Clock, Timeline

PAST = datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc)


def real_now_is_back() -> bool:
    return abs(core.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_the_clock_winds_core_now_and_ticks_a_millisecond_a_read():
    clock = Clock()
    clock.set(PAST)
    with clock:
        first, second = core.now(), core.now()
    assert first == PAST + timedelta(milliseconds=1) and second == PAST + timedelta(milliseconds=2)
    assert real_now_is_back()


def test_the_real_clock_is_back_when_the_seed_fails_half_way():
    clock = Clock()
    clock.set(PAST)
    with pytest.raises(RuntimeError), clock:
        assert core.now() < PAST + timedelta(seconds=1)
        raise RuntimeError("a step of the demo failed")
    assert real_now_is_back()


def test_the_timeline_runs_events_in_date_order_at_their_moment_and_skips_the_future():
    clock = Clock()
    timeline = Timeline(clock, until=PAST + timedelta(days=10))
    seen = []

    def event(label):
        seen.append((label, core.now()))
        if label == "rejected":  # an event may schedule a later one
            timeline.at(PAST + timedelta(days=3), lambda: event("shot again"))

    timeline.at(PAST + timedelta(days=2), lambda: event("rejected"))
    timeline.at(PAST + timedelta(days=1), lambda: event("shot"))
    timeline.at(PAST + timedelta(days=11), lambda: event("in the future"))
    with clock:
        timeline.run()
    assert [label for label, _at in seen] == ["shot", "rejected", "shot again"]
    assert [at.date() for _label, at in seen] == [(PAST + timedelta(days=d)).date() for d in (1, 2, 3)]
    assert real_now_is_back()
