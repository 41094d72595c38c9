"""The privacy units and the neighbouring relation each one implies.

* ``node``: add/remove one node with its features, its label and every edge at it.
* ``edge``: add/remove one undirected edge; node features, labels and ids are public.
* ``attributes``: replace one node's features and label; the node set and the edges are public and identical in
  both datasets (replace-one: removing the node would change the public structure).
* ``example``: add/remove one record (an image).
"""

from __future__ import annotations

UNITS = ("node", "edge", "attributes", "example")
REPLACE_ONE_UNITS = frozenset({"attributes"})


def sum_sensitivity(unit: str, row_bound: float) -> float:
    """L2 sensitivity of a sum of per-record vectors of norm <= ``row_bound`` (or of per-group sums, each record in
    one group): ``row_bound`` under add/remove, ``2 row_bound`` under replace-one, where one record's vector leaves
    (its group) and another's enters (possibly another group), so the change is at most ``||a|| + ||b||``."""
    return rows_sum_sensitivity(1 if unit in REPLACE_ONE_UNITS else None, row_bound)


def rows_sum_sensitivity(occurrences: int | None, row_bound: float = 1.0) -> float:
    """L2 sensitivity of per-group sums of rows of norm <= ``row_bound`` when a neighbour adds or removes one row
    (``occurrences=None``: ``row_bound``) or modifies at most K rows, each possibly moving to another group
    (``occurrences=K``: each modification moves the sums by <= ``2 row_bound``, so ``2 K row_bound`` in all)."""
    return row_bound if occurrences is None else 2.0 * occurrences * row_bound
