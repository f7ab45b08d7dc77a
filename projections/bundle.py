"""Several projections folded together in one pass over the tape.

Each event goes only to the projections whose ``topics`` name it. The routing table is keyed by
the event's exact class and filled on first sight of a class, so the hot path is one dict lookup
and a call per interested projection. ``topics`` is the union, for a reader to filter on.
``row_route`` lets ``Tape.replay(bundle)`` hand light field views to projections that read only
a few fields, when every projection interested in a topic can take one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from domain.events import Event
from projections.base import Handler, Projection, RowRoute, digest_of

Apply = Callable[[Event], None]


class ProjectionBundle:
    def __init__(self, projections: Iterable[Projection]) -> None:
        self.projections: dict[str, Projection] = {}
        for projection in projections:
            if projection.name in self.projections:
                raise ValueError(f"two projections named {projection.name!r}")
            self.projections[projection.name] = projection
        self.topics: frozenset[str] = frozenset().union(
            *(p.topics for p in self.projections.values())
        )
        self._routes: dict[type[Event], tuple[Apply, ...]] = {}

    def __getitem__(self, name: str) -> Projection:
        return self.projections[name]

    def __contains__(self, name: object) -> bool:
        return name in self.projections

    def _route(self, cls: type[Event]) -> tuple[Apply, ...]:
        topic = cls.__name__
        route = tuple(p.apply for p in self.projections.values() if topic in p.topics)
        self._routes[cls] = route
        return route

    def apply(self, event: Event) -> None:
        route = self._routes.get(type(event))
        if route is None:
            route = self._route(type(event))
        for apply in route:
            apply(event)

    def row_route(self, topic: str) -> RowRoute | None:
        """The union of the fields its projections read of ``topic`` and their handlers, in
        routing order; ``None`` when any of them needs whole events."""
        names: set[str] = set()
        handlers: list[Handler] = []
        for projection in self.projections.values():
            if topic not in projection.topics:
                continue
            route_of = getattr(projection, "row_route", None)
            route = route_of(topic) if route_of is not None else None
            if route is None:
                return None
            names.update(route[0])
            handlers.extend(route[1])
        return tuple(sorted(names)), tuple(handlers)

    def fold(self, events: Iterable[Event]) -> ProjectionBundle:
        routes = self._routes
        for event in events:
            route = routes.get(type(event))
            if route is None:
                route = self._route(type(event))
            for apply in route:
                apply(event)
        return self

    def state(self) -> dict[str, dict[str, Any]]:
        """Each projection's state, by name."""
        return {name: p.state() for name, p in sorted(self.projections.items())}

    def digests(self) -> dict[str, str]:
        return {name: p.digest() for name, p in sorted(self.projections.items())}

    def digest(self) -> str:
        """One digest over every projection's digest."""
        return digest_of(self.digests())


def fold(projection: Projection, events: Iterable[Event]) -> Projection:
    """Fold ``events`` into any projection (events outside its topics are skipped)."""
    topics = projection.topics
    apply = projection.apply
    for event in events:
        if type(event).__name__ in topics:
            apply(event)
    return projection
