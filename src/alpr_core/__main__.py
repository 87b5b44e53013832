"""``python -m alpr_core``: the same entry point as the ``alpr`` command."""

from alpr_core.cli import main

main()
