"""What both benchmark scripts report about the machine they ran on."""

from __future__ import annotations

import os
import platform

MIB = 1024 * 1024


def machine() -> dict:
    """CPU count (total and usable by this process), platform and Python version."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
