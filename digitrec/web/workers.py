"""`digitrec serve --workers N`: N uvicorn processes, each accepting on a socket of its own.

uvicorn's own supervisor hands one listening socket to every worker. Whichever worker wakes
first then accepts a whole burst of new connections, and keep-alive clients stay where they
landed: driven by 8 clients at once, a 2-worker server served them all from one process in 1
run of 3 (230 requests/s against 600 when spread). Here each worker has its own socket, bound
to the same address with SO_REUSEPORT, so the kernel spreads the connections over them.
"""

from __future__ import annotations

import errno
import logging
import multiprocessing
import signal
import socket
import threading
from typing import Any

logger = logging.getLogger("digitrec")

# Seconds between looks at the workers, and given to each to finish its requests at the end.
POLL_SECONDS = 0.5
STOP_SECONDS = 10.0


def listening_sockets(address: tuple, family: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on one address (SO_REUSEPORT), the first bound before the
    others so that port 0 picks one free port for all. Raises OSError as bind() does."""
    if count > 1 and not hasattr(socket, "SO_REUSEPORT"):
        raise OSError(
            errno.EOPNOTSUPP, "several workers need SO_REUSEPORT, which this system lacks"
        )
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if count > 1:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address if len(sockets) == 1 else sockets[0].getsockname())
            sock.listen(2048)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def run_workers(config: dict[str, Any], sockets: list[socket.socket]) -> int:
    """Serve with one process per socket, each running uvicorn.Config(**config); a worker that
    dies is started again on its socket. Returns at SIGINT or SIGTERM, 0, or 1 if a worker
    could not start."""
    # uvicorn exits with this code when the app fails to start (a broken model file):
    # restarting would fail the same way, so the server stops instead. Imported here, not at
    # the top: every CLI command imports this module, only `serve` needs uvicorn.
    from uvicorn.config import STARTUP_FAILURE

    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())

    def start(sock: socket.socket) -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_serve, args=(config, sock), daemon=False)
        process.start()
        return process

    workers = [start(sock) for sock in sockets]
    status = 0
    try:
        while not stop.wait(POLL_SECONDS):
            for index, process in enumerate(workers):
                if process.is_alive() or stop.is_set():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    logger.error("digitrec: a worker failed to start; stopping")
                    status = 1
                    stop.set()
                    break
                logger.warning(
                    "digitrec: worker %d exited (%s); starting it again",
                    process.pid,
                    process.exitcode,
                )
                workers[index] = start(sockets[index])
    finally:
        for process in workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for process in workers:
            process.join(STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
    return status


def _serve(config: dict[str, Any], sock: socket.socket) -> None:
    import uvicorn

    uvicorn.Server(uvicorn.Config(**config)).run(sockets=[sock])
