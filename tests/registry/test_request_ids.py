"""Request ids (``X-Request-ID``): a new one for every answer, in uuid4's hex form, and different in every
forked worker (gunicorn forks its workers; with ``--preload`` after the application was loaded)."""

import os
import re

from core.request_ids import new_request_id


def test_each_answer_gets_a_new_id_in_uuid4s_hex_form():
    ids = [new_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{32}", found) for found in ids)


def test_a_forked_worker_does_not_repeat_its_parents_ids():
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: its next ids
        os.write(write, ",".join(new_request_id() for _ in range(5)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    childs = set(os.read(read, 4096).decode().split(","))
    os.close(read)
    parents = {new_request_id() for _ in range(5)}
    assert len(childs) == 5 and not childs & parents
