"""EXPLAIN ANALYZE of the API's queries on a filled database, trimmed for docs/query-plans.md.

    python -m bench.plans --keep-db bench_10m > plans.md   # after bench.api_load --keep-db ...

Runs each scenario's SQL (as `alpr api` builds it, on the API's connection settings) and prints
its plan; a node's children past the first two are counted, not printed, since each day
partition (or time window) repeats the same plan.
"""

from __future__ import annotations

import argparse
import random
import re
from dataclasses import dataclass, field
from typing import Any

import psycopg

from alpr_core.api.app import EXPLICIT_PREPARE_ONLY, api_conninfo
from alpr_core.api.queries import PlateFilters, page_query
from bench.api_load import (
    _UNSCOPED,
    Page,
    sample_cameras,
    sample_plates,
    scenarios,
    stored_image_ids,
)
from bench.resources import kept_settings, load_services_env, row_count

_NODE = re.compile(r"^(\s*)->  ")
KEEP_CHILDREN = 2


@dataclass
class _Node:
    lines: list[str]  # the node's own line and its details (Index Cond, Filter, ...)
    indent: int
    children: list[_Node] = field(default_factory=list)


def _parse(plan: list[str]) -> _Node:
    root = _Node([plan[0]], -1)
    stack = [root]
    for line in plan[1:]:
        match = _NODE.match(line)
        if match is None:  # a detail of the node above, or the Planning/Execution lines
            (stack[-1] if line.startswith(" ") else root).lines.append(line)
            continue
        node = _Node([line], len(match[1]))
        while stack[-1].indent >= node.indent:
            stack.pop()
        stack[-1].children.append(node)
        stack.append(node)
    return root


def _render(node: _Node, out: list[str]) -> None:
    out.extend(node.lines[:1] + [line for line in node.lines[1:] if line.startswith(" ")])
    for child in node.children[:KEEP_CHILDREN]:
        _render(child, out)
    if len(node.children) > KEEP_CHILDREN + 1:
        indent = " " * node.children[0].indent
        more = len(node.children) - KEEP_CHILDREN
        out.append(f"{indent}->  ... {more} more like the two above (partitions or windows)")
    elif len(node.children) == KEEP_CHILDREN + 1:
        _render(node.children[-1], out)


def trimmed(plan: list[str]) -> list[str]:
    """The plan with each node's children past the first two counted, not printed."""
    root = _parse(plan)
    out: list[str] = []
    _render(root, out)
    return out + [line for line in root.lines[1:] if not line.startswith(" ")]


def explain(
    conn: psycopg.Connection[Any], query: str, params: dict[str, Any], prepared: bool
) -> list[str]:
    """The plan the API gets: for a statement it prepares, the generic plan (as a SQL-level
    PREPARE with ``$n`` parameters, the connection forcing generic plans like the API's pool);
    for the others, the plan made for these values."""
    if not prepared:  # bound on the client, as the API sends it: a statement with parameters
        with psycopg.ClientCursor(conn) as cursor:  # would get the connection's generic plan
            cursor.execute(query.encode(), params)  # warm, as a pooled connection is
            cursor.execute(("EXPLAIN (ANALYZE, COSTS OFF) " + query).encode(), params)
            return [row[0] for row in cursor.fetchall()]
    names = list(params)
    numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m[1]) + 1}", query)
    conn.execute(("PREPARE probe AS " + numbered.replace("%%", "%")).encode())
    arguments = ", ".join(["%s"] * len(names))
    values = [params[name] for name in names]
    try:
        with psycopg.ClientCursor(conn) as cursor:  # EXECUTE takes values, not parameters
            cursor.execute(f"EXECUTE probe({arguments})".encode(), values)
            cursor.execute(
                f"EXPLAIN (ANALYZE, COSTS OFF) EXECUTE probe({arguments})".encode(), values
            )
            return [row[0] for row in cursor.fetchall()]
    finally:
        conn.execute("DEALLOCATE probe")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep-db", metavar="NAME", required=True)
    args = parser.parse_args()
    load_services_env()
    settings = kept_settings(args.keep_db)
    plates = sample_plates(settings, 200)
    rows = row_count(settings)
    conninfo = api_conninfo(settings, generic_plans=True)
    with psycopg.connect(conninfo, autocommit=True, **EXPLICIT_PREPARE_ONLY) as conn:
        cameras = sample_cameras(settings)
        pages = [
            (scenario.name, scenario.page(random.Random(1)))
            for scenario in scenarios(plates, stored_image_ids(settings), cameras)
        ]
        none = ["cam-none"]
        pages += [  # cameras and a site without reads: the cases a generic plan got wrong
            ("a camera with no reads", Page("", filters=PlateFilters(camera_ids=none))),
            (
                "two cameras, one with no reads",
                Page("", filters=PlateFilters(camera_ids=[*none, cameras[0]])),
            ),
            ("a site with no reads", Page("", filters=PlateFilters(site="site-none"))),
        ]
        for name, page in pages:
            if not page.pages:
                continue
            query = page_query(_UNSCOPED, page.filters, None, 50, page.match)
            statements, prepared = query.statements, query.prepared
            kind = "prepared: its generic plan" if prepared else "planned for its values"
            if len(statements) > 1:
                kind += f"; the first of {len(statements)} statements, the one most pages need"
            plan = explain(conn, *statements[0], prepared)
            print(
                f"\n### {name} ({kind}), {rows:,} rows\n\n```\n"
                + "\n".join(trimmed(plan))
                + "\n```"
            )


if __name__ == "__main__":
    main()
