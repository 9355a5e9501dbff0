"""The demo's past, lived through in order: a clock that core.now() reads while it runs, and a
timeline of dated events that sets the clock to each one's moment before it happens.

The clock is hooked into core.now() (core.set_clock), the one clock every module and every
`now` column default reads, for as long as the demo lives through its history, and unhooked on
the way out whatever happened: no module's names are rebound."""
from __future__ import annotations

import heapq
import itertools
from datetime import datetime, timedelta
from typing import Callable

from field import core


class Clock:
    """What `now()` reads while the demo lives through its history: a moment that ticks a
    millisecond a read, so events written together keep their order.

    `with clock:` makes core.now() read it, and puts the real clock back on the way out."""

    def __init__(self):
        self.moment: datetime | None = None

    def set(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        self.moment += timedelta(milliseconds=1)
        return self.moment

    def __enter__(self) -> Clock:
        core.set_clock(self)
        return self

    def __exit__(self, *_exc) -> None:
        core.set_clock(None)


class Timeline:
    """Events in date order; an event may add later ones (a rejection, the re-shoot it asks for)."""

    def __init__(self, clock: Clock, until: datetime):
        self.clock, self.until = clock, until
        self.heap: list = []
        self.seq = itertools.count()

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        if moment < self.until:  # nothing happens in the future
            heapq.heappush(self.heap, (moment, next(self.seq), action))

    def run(self) -> None:
        while self.heap:
            moment, _n, action = heapq.heappop(self.heap)
            self.clock.set(moment)
            action()
