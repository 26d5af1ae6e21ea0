"""The deliverer inside `inquicker serve`: a process of its own, restarted if it dies.

A separate process keeps webhook sending (threads, sockets, CPU for signing) off the
request threads' GIL; a one-machine install then delivers with no extra command.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable

log = logging.getLogger("inquicker.webhooks")

RESTART_DELAY = 1.0


def start_deliverer() -> Callable[[], None]:
    """Start the deliverer process and its watcher; returns the function that stops both."""
    from inquicker.events.cli import run_deliverer

    # spawn, not fork: the child must not inherit uvicorn's sockets or threads.
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()
    parent = os.getpid()

    def spawn() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=run_deliverer, args=(parent,), name="inquicker-worker")
        process.start()
        return process

    current = [spawn()]

    def watch() -> None:
        while not stopping.is_set():
            current[0].join(timeout=0.5)
            if current[0].exitcode is not None and not stopping.is_set():
                log.warning("webhook deliverer exited (%s); restarting", current[0].exitcode)
                if stopping.wait(RESTART_DELAY):
                    return
                current[0] = spawn()

    watcher = threading.Thread(target=watch, name="deliverer-watch", daemon=True)
    watcher.start()

    def stop() -> None:
        stopping.set()
        watcher.join(timeout=5)
        process = current[0]
        if process.is_alive():
            process.terminate()  # SIGTERM: the batch in hand is finished and recorded
            process.join(timeout=25)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)

    return stop
