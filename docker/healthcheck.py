"""The image's HEALTHCHECK: exit 0 when ``$ALPR_HEALTH_URL`` answers 2xx, else 1.

Standard library only, so it runs in the slim image without curl. The API serves ``/health`` on
8000 and the storage service on 8002 (a 503 there means its consume loop has stalled).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/health"


def healthy(url: str, timeout_s: float = 4.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - local URL
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    return 0 if healthy(os.environ.get("ALPR_HEALTH_URL", DEFAULT_URL)) else 1


if __name__ == "__main__":
    sys.exit(main())
