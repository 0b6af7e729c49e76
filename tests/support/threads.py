"""Running one piece of work in several threads at once, for the concurrency tests
(PostgreSQL): each thread uses a connection of its own, closed when it is done."""

import threading

from django.db import connections


def in_threads(n, work):
    """Run `work(i)` for i in range(n) in n threads started together (a barrier); the
    exceptions they raised, for the caller to assert empty."""
    errors, barrier = [], threading.Barrier(n)

    def run(i):
        try:
            barrier.wait()
            work(i)
        except Exception as exc:  # collected and asserted by the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors
