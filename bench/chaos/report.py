"""The table printed at the end, and docs/reliability.md."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.chaos.run import Options, Result
from bench.chaos.servers import REPO

DOC = REPO / "docs" / "reliability.md"


def table(result: Result) -> str:
    lines = ["| check | value | exact |", "|---|---|---|"]
    for finding in result.findings:
        mark = {True: "yes", False: "**NO**", None: ""}[finding.exact]
        lines.append(f"| {finding.name} | {finding.value} | {mark} |")
    lines.append(
        f"| consumers that died on their own | {len(result.deaths)} | "
        f"{'yes' if not result.deaths else '**NO**'} |"
    )
    return "\n".join(lines)


def details(result: Result) -> str:
    out: list[str] = []
    for finding in result.findings:
        if finding.examples:
            out.append(f"- {finding.name}, e.g.: " + "; ".join(finding.examples))
    for death in result.deaths:
        out.append(f"- {death.name} exited with {death.exit_code}; last lines:")
        out += [f"      {line}" for line in death.last_lines]
    return "\n".join(out)


def faults(result: Result) -> str:
    return "\n".join(f"- {line}" for line in result.faults_done) or "- none"


def _machine() -> str:
    pages = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{os.cpu_count()} cores, {pages / 2**30:.0f} GiB memory"


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def write_doc(result: Result, options: Options, command: str, path: Path = DOC) -> None:
    path.write_text(
        f"""# Reliability: chaos at scale with exact accounting

`bench.chaos` starts its own PostgreSQL, Kafka, MinIO and schema registry (through `infra/*.sh`,
with a private `ALPR_SERVICES_DIR` and ports, so its faults never touch shared servers), three
`alpr storage` processes in one consumer group and an `alpr api` with an ingest key. It offers a
constant-rate, open-loop load: a third of the reads version 2 with a rendered crop, a tenth
through `POST /events`, 1 % poison of every kind (random bytes, a truncated Confluent frame, a
66-byte PNG bomb, a real 10000x10000 PNG, 600-deep unknown JSON fields, NUL characters in text
fields, a `plate_url` naming another read's object) and 1 % replays (the same message, and the
same event with a different image). Meanwhile it kills a consumer about every minute, restarts the
broker, stops PostgreSQL, MinIO and the registry for a while, and scales the group 3 -> 2 -> 3.

When the load stops it waits for the group's lag to reach 0, then checks every acknowledged read
against what was stored: one row per event_id, each inline image readable and equal to the first
image sent, no orphan objects, every poison message in the dead-letter topic (matched by its
original partition and offset) and every HTTP poison item answered with a 4xx, the fuzzy
dictionary's backlog drained. It exits non-zero when any of this is not exact.

Command: `{command}`

Commit `{_commit()}`; machine: {_machine()}; {options.duration_s:.0f} s at
{options.rate_per_s:.0f} events/s, seed {options.seed}, faults: {", ".join(options.faults)}.

{table(result)}

Faults carried out (seconds into the load):

{faults(result)}

{"Details:" if details(result) else ""}

{details(result)}
"""
    )
