"""Request ids: the ``X-Request-ID`` of every answer and the audit events it caused.

A correlation id, not a secret: 128 bits from the ``random`` module's generator (seeded from the operating
system, and seeded again by Python in every forked worker), written as ``uuid4().hex`` would be. ``uuid4``
reads the operating system's randomness through a system call that releases the GIL: on a busy threaded
worker the thread then waits its turn to take it back, which profiled as a twentieth of a cached resolve.
"""

import random


def new_request_id() -> str:
    return f"{random.getrandbits(128):032x}"
