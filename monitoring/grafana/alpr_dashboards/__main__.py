"""Write every dashboard's JSON to monitoring/grafana/dashboards/<uid>.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from alpr_dashboards import logs, overview, pipeline, system

OUTPUT = Path(__file__).resolve().parents[1] / "dashboards"


def dashboards() -> list[Dashboard]:
    return [overview.build(), system.build(), pipeline.build(), logs.build()]


def as_json(board: Dashboard) -> str:
    model = board.build()
    for number, panel in enumerate(model.panels or [], start=1):
        panel.id_val = number  # unique ids, in order, so Grafana keeps panel links stable
    return json.dumps(model, cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def write_all(output: Path = OUTPUT) -> list[Path]:
    written = []
    for board in dashboards():
        path = output / f"{board.build().uid}.json"
        path.write_text(as_json(board))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT):
        print(path)
