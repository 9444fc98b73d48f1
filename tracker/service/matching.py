"""Matching a programme's parts to its own lots: as many chips covered as can be, the best
fitting first, as a minimum-cost maximum flow.

The graphs are tiny (a programme's lots, and its parts' chips grouped by vendor and model),
so successive shortest paths found with Bellman-Ford are plenty.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

S = TypeVar("S", bound=Hashable)  # a supply's key
D = TypeVar("D", bound=Hashable)  # a demand's key


@dataclass
class _Edge:
    to: int
    capacity: int
    cost: int
    back: int  # index of the reverse edge in the graph[to]


class _Network:
    def __init__(self, nodes: int) -> None:
        self.graph: list[list[_Edge]] = [[] for _ in range(nodes)]

    def add(self, start: int, end: int, capacity: int, cost: int) -> _Edge:
        edge = _Edge(end, capacity, cost, len(self.graph[end]))
        self.graph[start].append(edge)
        self.graph[end].append(_Edge(start, 0, -cost, len(self.graph[start]) - 1))
        return edge

    def reverse(self, edge: _Edge) -> _Edge:
        return self.graph[edge.to][edge.back]

    def push_all(self, source: int, sink: int) -> None:
        """Push flow along cheapest paths until none is left (successive shortest paths)."""
        while (path := self._cheapest_path(source, sink)) is not None:
            amount = min(edge.capacity for edge in path)
            for edge in path:
                edge.capacity -= amount
                self.reverse(edge).capacity += amount

    def _cheapest_path(self, source: int, sink: int) -> list[_Edge] | None:
        infinity = float("inf")
        cost = [infinity] * len(self.graph)
        via: list[tuple[int, _Edge] | None] = [None] * len(self.graph)
        cost[source] = 0
        for _ in range(len(self.graph)):  # Bellman-Ford: no negative cycle arises here
            changed = False
            for node, edges in enumerate(self.graph):
                if cost[node] == infinity:
                    continue
                for edge in edges:
                    if edge.capacity > 0 and cost[node] + edge.cost < cost[edge.to]:
                        cost[edge.to] = cost[node] + edge.cost
                        via[edge.to] = (node, edge)
                        changed = True
            if not changed:
                break
        if cost[sink] == infinity:
            return None
        path: list[_Edge] = []
        node = sink
        while node != source:
            step = via[node]
            assert step is not None
            node, edge = step
            path.append(edge)
        return path[::-1]


def cover(
    supplies: Mapping[S, int], demands: Sequence[tuple[D, int, bool]], fit: Mapping[tuple[S, D], int]
) -> dict[tuple[S, D], int]:
    """How much of each supply goes to each demand.

    ``supplies``: what each supply holds. ``demands``: (key, amount, first), the demands
    marked ``first`` served before the others, which never take from them. ``fit``: the cost
    of serving a demand from a supply (lower fits better); a pair not in it cannot be matched.
    As much as possible is served to the first demands, then to the others, each time at the
    lowest total cost.
    """
    supply_keys = list(supplies)
    source, sink = 0, len(supply_keys) + len(demands) + 1
    network = _Network(sink + 1)
    for place, key in enumerate(supply_keys, start=1):
        network.add(source, place, supplies[key], 0)
    links: dict[tuple[S, D], _Edge] = {}
    for index, (demand, _, _) in enumerate(demands, start=len(supply_keys) + 1):
        for place, key in enumerate(supply_keys, start=1):
            if (key, demand) in fit:
                links[key, demand] = network.add(place, index, sum(supplies.values()), fit[key, demand])
    for first in (True, False):
        outlets = [
            network.add(index, sink, amount, 0)
            for index, (_, amount, is_first) in enumerate(demands, start=len(supply_keys) + 1)
            if is_first is first
        ]
        network.push_all(source, sink)
        for outlet in outlets:  # what the first demands hold, the others cannot take back
            network.reverse(outlet).capacity = 0
    return {
        pair: network.reverse(edge).capacity for pair, edge in links.items() if network.reverse(edge).capacity
    }
