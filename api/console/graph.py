"""A state machine drawn from its ASL: a layered (Sugiyama) layout of its top-level states.

The four classic steps, small enough for a state machine of a few dozen states:

1. cycles are broken by reversing the edges a depth-first walk from ``StartAt`` finds going back
   (a retry loop is drawn upward);
2. each state goes on the layer after the deepest of its predecessors (longest path), and an edge
   longer than one layer gets a dummy point per layer it crosses, so it bends around boxes;
3. the order within each layer is improved by barycentre sweeps, down and up, keeping the order
   with the fewest crossings;
4. each box is pulled towards the mean position of its neighbours, never overlapping the next.

Pure Python and deterministic: the console draws the SVG on the server, and tests count crossings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FONT_PX = 13  # the console's CSS draws labels at this size; the SVG is never scaled down
CHAR_PX = 7.6  # a generous average advance of a 13 px sans-serif character
LINE_PX = 16
BOX_PAD_X, BOX_PAD_Y = 14, 10
MIN_BOX_W = 104
GAP_X, GAP_Y, MARGIN = 28, 52, 16
DUMMY_W = 8
WRAP_ABOVE = 18  # labels longer than this wrap at a word boundary (camel case) onto two lines
SWEEPS = 12


@dataclass
class Box:
    """A state (or, with ``dummy``, a point an edge passes through on a layer it crosses)."""

    name: str
    type: str = ""
    lines: tuple[str, ...] = ()
    dummy: bool = False
    layer: int = 0
    width: float = DUMMY_W
    height: float = 0
    x: float = 0  # centre
    y: float = 0  # top

    @property
    def left(self) -> float:
        return self.x - self.width / 2


@dataclass
class Edge:
    source: str
    target: str
    error: bool  # a Catch
    points: list[tuple[float, float]] = field(default_factory=list)

    @property
    def path(self) -> str:
        """An SVG path through the points: straight down the middle of each layer gap, curved between."""
        (x, y), *rest = self.points
        drawn = [f"M{x:.1f},{y:.1f}"]
        for nx, ny in rest:
            middle = (y + ny) / 2
            drawn.append(f"C{x:.1f},{middle:.1f} {nx:.1f},{middle:.1f} {nx:.1f},{ny:.1f}")
            x, y = nx, ny
        return " ".join(drawn)


@dataclass
class Layout:
    boxes: dict[str, Box]  # the states only, by name
    edges: list[Edge]
    width: float
    height: float
    crossings: int


def transitions(state: dict[str, Any]) -> list[tuple[str, bool]]:
    """(target, is_error_path) for every way out of a state."""
    found = [(state["Next"], False)] if "Next" in state else []
    found += [(choice["Next"], False) for choice in state.get("Choices", []) if "Next" in choice]
    if "Default" in state:
        found.append((state["Default"], False))
    found += [(catch["Next"], True) for catch in state.get("Catch", [])]
    return found


def label_lines(name: str) -> tuple[str, ...]:
    """One line, or two split at the camel-case boundary nearest the middle of a long name."""
    if len(name) <= WRAP_ABOVE:
        return (name,)
    cuts = [m.start() for m in re.finditer(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[-_ ])", name)]
    if not cuts:
        return (name,)
    cut = min(cuts, key=lambda at: abs(at - len(name) / 2))
    return (name[:cut], name[cut:])


def layout(definition: dict[str, Any]) -> Layout:
    states: dict[str, Any] = definition.get("States", {})
    names = list(states)
    edges: list[Edge] = []
    for source in names:
        seen: set[tuple[str, bool]] = set()
        for target, error in transitions(states[source]):
            if target in states and target != source and (target, error) not in seen:
                seen.add((target, error))
                edges.append(Edge(source, target, error))

    reversed_ = _back_edges(definition.get("StartAt", ""), names, edges)
    forward = [(e.target, e.source) if id(e) in reversed_ else (e.source, e.target) for e in edges]
    layer = _layers(names, forward)

    boxes: dict[str, Box] = {}
    for name in names:
        lines = label_lines(name)
        width = max(MIN_BOX_W, max(len(line) for line in lines) * CHAR_PX + 2 * BOX_PAD_X)
        boxes[name] = Box(
            name=name,
            type=str(states[name].get("Type", "")),
            lines=lines,
            layer=layer[name],
            width=width,
            height=len(lines) * LINE_PX + 2 * BOX_PAD_Y,
        )
    # Every forward edge as a chain of one-layer segments through dummy points.
    chains: list[list[str]] = []
    for index, (upper, lower) in enumerate(forward):
        chain = [upper]
        for step in range(layer[upper] + 1, layer[lower]):
            dummy = f"\0{index}.{step}"
            boxes[dummy] = Box(name=dummy, dummy=True, layer=step)
            chain.append(dummy)
        chain.append(lower)
        chains.append(chain)
    segments = [(a, b) for chain in chains for a, b in zip(chain, chain[1:], strict=False)]

    rows = _order(boxes, segments, names)
    crossings = _crossings(rows, segments)
    _place(rows, boxes, segments)

    for edge, chain in zip(edges, chains, strict=True):
        top, bottom = boxes[chain[0]], boxes[chain[-1]]
        points = [(top.x, top.y + top.height)]
        points += [
            (boxes[d].x, boxes[d].y + _row_height(rows, boxes, boxes[d].layer) / 2) for d in chain[1:-1]
        ]
        points.append((bottom.x, bottom.y))
        edge.points = list(reversed(points)) if id(edge) in reversed_ else points
    states_only = {name: boxes[name] for name in names}
    width = max((b.x + b.width / 2 for b in boxes.values()), default=0) + MARGIN
    height = max((b.y + b.height for b in boxes.values()), default=0) + MARGIN
    return Layout(states_only, edges, width, height, crossings)


def _back_edges(start: str, names: list[str], edges: list[Edge]) -> set[int]:
    """The edges a depth-first walk from ``start`` (then any unvisited state) finds going back."""
    out: dict[str, list[Edge]] = {name: [] for name in names}
    for edge in edges:
        out[edge.source].append(edge)
    state: dict[str, int] = {}  # 1 on the walk's stack, 2 done
    back: set[int] = set()
    for root in ([start] if start in out else []) + names:
        if root in state:
            continue
        stack: list[tuple[str, Iterator[Edge]]] = [(root, iter(out[root]))]
        state[root] = 1
        while stack:
            node, pending = stack[-1]
            step = next(pending, None)
            if step is None:
                state[node] = 2
                stack.pop()
            elif state.get(step.target) == 1:
                back.add(id(step))
            elif step.target not in state:
                state[step.target] = 1
                stack.append((step.target, iter(out[step.target])))
    return back


def _layers(names: list[str], forward: list[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the sources: each state one layer below its deepest predecessor."""
    incoming: dict[str, list[str]] = {name: [] for name in names}
    for upper, lower in forward:
        incoming[lower].append(upper)
    layer: dict[str, int] = {}

    def depth(name: str) -> int:
        pending = [name]
        while pending:
            current = pending[-1]
            missing = [p for p in incoming[current] if p not in layer]
            if missing:
                pending.extend(missing)
                continue
            pending.pop()
            layer[current] = max((layer[p] + 1 for p in incoming[current]), default=0)
        return layer[name]

    for name in names:
        if name not in layer:
            depth(name)
    return layer


def _order(boxes: dict[str, Box], segments: list[tuple[str, str]], names: list[str]) -> list[list[str]]:
    """Layers as lists of box names, ordered by barycentre sweeps to reduce crossings."""
    depth = max((b.layer for b in boxes.values()), default=-1) + 1
    rows: list[list[str]] = [[] for _ in range(depth)]
    # Start from the declaration order (ASL authors list states roughly in flow order).
    rank = {name: index for index, name in enumerate(names)}
    for name in sorted(boxes, key=lambda n: (rank.get(n, len(rank)), n)):
        rows[boxes[name].layer].append(name)
    up: dict[str, list[str]] = {name: [] for name in boxes}
    down: dict[str, list[str]] = {name: [] for name in boxes}
    for upper, lower in segments:
        down[upper].append(lower)
        up[lower].append(upper)
    best, fewest = [list(r) for r in rows], _crossings(rows, segments)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        order = range(1, depth) if downward else range(depth - 2, -1, -1)
        for index in order:
            fixed = rows[index - 1] if downward else rows[index + 1]
            rows[index] = _by_barycentre(rows[index], fixed, up if downward else down)
        count = _crossings(rows, segments)
        if count < fewest:
            best, fewest = [list(r) for r in rows], count
    return best


def _by_barycentre(row: list[str], fixed: list[str], neighbours: dict[str, list[str]]) -> list[str]:
    """The row sorted by the mean position of each box's neighbours in the fixed row (kept if none)."""
    position = {name: at for at, name in enumerate(fixed)}

    def barycentre(at: int, name: str) -> float:
        linked = [position[n] for n in neighbours[name] if n in position]
        return sum(linked) / len(linked) if linked else float(at)

    return [name for _, name in sorted(enumerate(row), key=lambda pair: barycentre(*pair))]


def _crossings(rows: list[list[str]], segments: list[tuple[str, str]]) -> int:
    position = {name: at for row in rows for at, name in enumerate(row)}
    layer_of = {name: index for index, row in enumerate(rows) for name in row}
    by_gap: dict[int, list[tuple[int, int]]] = {}
    for upper, lower in segments:
        by_gap.setdefault(layer_of[upper], []).append((position[upper], position[lower]))
    count = 0
    for pairs in by_gap.values():
        for i, (a1, b1) in enumerate(pairs):
            for a2, b2 in pairs[i + 1 :]:
                if (a1 - a2) * (b1 - b2) < 0:
                    count += 1
    return count


def _row_height(rows: list[list[str]], boxes: dict[str, Box], index: int) -> float:
    return max((boxes[name].height for name in rows[index]), default=0)


def _place(rows: list[list[str]], boxes: dict[str, Box], segments: list[tuple[str, str]]) -> None:
    """y by layer; x packed left to right, then pulled towards the neighbours' mean, without overlaps."""
    top = float(MARGIN)
    for index, row in enumerate(rows):
        height = _row_height(rows, boxes, index)
        for name in row:
            box = boxes[name]
            box.y = top + (height - box.height) / 2
        top += height + GAP_Y
    for row in rows:
        left = float(MARGIN)
        for name in row:
            boxes[name].x = left + boxes[name].width / 2
            left += boxes[name].width + GAP_X
    neighbours: dict[str, list[str]] = {name: [] for name in boxes}
    for upper, lower in segments:
        neighbours[upper].append(lower)
        neighbours[lower].append(upper)
    for _ in range(8):
        for row in rows:
            for name in row:
                linked = neighbours[name]
                if linked:
                    boxes[name].x = sum(boxes[n].x for n in linked) / len(linked)
            _separate(row, boxes)
    shift = MARGIN - min((b.left for b in boxes.values()), default=MARGIN)
    for box in boxes.values():
        box.x += shift


def _separate(row: list[str], boxes: dict[str, Box]) -> None:
    """Keep the row's order and at least GAP_X between boxes, moving each as little as possible.

    Pushing overlaps rightwards and, separately, leftwards both keep the gaps; so does their mean,
    which does not drift the whole row to one side.
    """
    wanted = [boxes[name].x for name in row]
    widths = [boxes[name].width for name in row]
    rightwards, leftwards = list(wanted), list(wanted)
    for i in range(1, len(row)):
        least = rightwards[i - 1] + (widths[i - 1] + widths[i]) / 2 + GAP_X
        rightwards[i] = max(rightwards[i], least)
    for i in range(len(row) - 2, -1, -1):
        most = leftwards[i + 1] - (widths[i] + widths[i + 1]) / 2 - GAP_X
        leftwards[i] = min(leftwards[i], most)
    for name, a, b in zip(row, rightwards, leftwards, strict=True):
        boxes[name].x = (a + b) / 2
