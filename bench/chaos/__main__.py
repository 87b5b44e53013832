"""``python -m bench.chaos``: chaos at scale with exact accounting (see docs/reliability.md)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from bench.chaos import report
from bench.chaos.faults import FAULTS
from bench.chaos.run import Options, run


def parse(argv: list[str]) -> tuple[Options, bool]:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--duration-s", type=float, default=600, help="seconds of load")
    parser.add_argument("--rate", type=float, default=1000, help="events offered per second")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", nargs="*", choices=FAULTS, default=list(FAULTS))
    parser.add_argument("--state-dir", type=Path, default=Path("/tmp/alpr-chaos"))
    parser.add_argument("--drain-timeout-s", type=float, default=300)
    parser.add_argument("--keep-state", action="store_true", help="keep logs and data")
    parser.add_argument("--write-doc", action="store_true", help="write docs/reliability.md")
    args = parser.parse_args(argv)
    options = Options(
        duration_s=args.duration_s,
        rate_per_s=args.rate,
        seed=args.seed,
        faults=tuple(args.faults),
        state_dir=args.state_dir,
        drain_timeout_s=args.drain_timeout_s,
        keep_state=args.keep_state,
    )
    return options, bool(args.write_doc)


def main(argv: list[str]) -> int:
    options, write_doc = parse(argv)
    result = run(options)
    print(report.table(result))
    print("\nFaults:\n" + report.faults(result))
    if details := report.details(result):
        print("\nDetails:\n" + details)
    if write_doc:
        report.write_doc(result, options, shlex.join(["python", "-m", "bench.chaos", *argv]))
    print("\naccounting exact" if result.exact else "\naccounting NOT exact", file=sys.stderr)
    return 0 if result.exact else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
