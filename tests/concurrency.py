"""Running work in threads released at the same moment (PostgreSQL concurrency tests)."""

import threading

from django.db import connection


def run_at_once(count, work, *, name="worker"):
    """Start ``work(index)`` in ``count`` threads released together. Returns each thread's outcome: the
    result, or the exception it raised."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def run(index):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = work(index)
        except BaseException as error:  # noqa: BLE001 - judged by the test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,), name=f"{name}-{index}") for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not [thread.name for thread in threads if thread.is_alive()], f"{name}s still running"
    return outcomes
