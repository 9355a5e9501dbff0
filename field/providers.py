"""Providers: how a lower domain's page shows what a higher domain knows, without importing it.

Domains import downward only (see the README's Layout). Where visits must show the activities
that still need evidence at a store, or the photos of a step, the higher domain (activities,
photos) registers a function here when the app starts, and the lower one calls it by name:

    providers.register("visit_evidence", evidence_for_step)      # activities, at start-up
    providers.ask("visit_evidence", visit, step, default=[])      # visits, when it renders

A name nobody registered answers `default`, so a lower domain works (and is tested) alone.
Several functions may listen to one event name with `listen`/`notify` (a sale imported: ROI
marks its figures stale)."""
from __future__ import annotations

from typing import Any, Callable

_providers: dict[str, Callable[..., Any]] = {}
_listeners: dict[str, list[Callable[..., Any]]] = {}


def register(name: str, fn: Callable[..., Any]) -> None:
    """`fn` answers `ask(name, ...)`; registering again replaces it (an app made twice in tests)."""
    _providers[name] = fn


def ask(name: str, *args, default: Any = None, **kwargs) -> Any:
    fn = _providers.get(name)
    return fn(*args, **kwargs) if fn is not None else default


def listen(name: str, fn: Callable[..., Any]) -> None:
    """Call `fn` on every notify(name, ...); the same function is added once."""
    if fn not in _listeners.setdefault(name, []):
        _listeners[name].append(fn)


def notify(name: str, *args, **kwargs) -> None:
    for fn in _listeners.get(name, ()):
        fn(*args, **kwargs)
