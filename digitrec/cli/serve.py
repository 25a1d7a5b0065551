"""`digitrec serve`: the web page and REST API (digitrec.web) on uvicorn."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import socket

from digitrec.errors import DigitrecError
from digitrec.models.loading import DEFAULT_MODEL
from digitrec.web.settings import (
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    SETTINGS_ENVIRONMENT,
    ServerSettings,
)
from digitrec.web.workers import listening_sockets, run_workers

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve",
        help="serve the drawing page and the REST API",
        description="Serve a page to draw or upload digits on and see what the model reads, "
        "and a REST API (/api/v1/predict, /api/v1/predict/batch, /api/v1/models; described "
        "at /docs). The model is loaded once, at start.",
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="default model: file, run folder or shipped name (shipped ones stay choosable)",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument(
        "--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="request size limit in bytes"
    )
    parser.add_argument(
        "--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, help="refuse larger images"
    )
    parser.add_argument(
        "--max-batch", type=int, default=DEFAULT_MAX_BATCH, help="images per batch request"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (each loads the model once)"
    )
    parser.add_argument("--threads", type=int, default=2, help="images read at once per process")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.set_defaults(run=run)


def listen(host: str, port: int, count: int = 1) -> list[socket.socket]:
    """Bind now, so a port in use is one line of error rather than a uvicorn log and exit: one
    socket, or one per worker process (see digitrec.web.workers)."""
    if not 0 <= port <= 65535:
        raise DigitrecError(f"--port must be 0-65535, not {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise DigitrecError(f"cannot listen on {host}: {error.strerror}") from None
    family, _, _, _, address = infos[0]
    try:
        return listening_sockets(address, family, count)
    except OSError as error:
        raise DigitrecError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def run(args: argparse.Namespace) -> int:
    for option in ("max_bytes", "max_pixels", "max_batch", "workers", "threads"):
        if getattr(args, option) < 1:
            raise DigitrecError(f"--{option.replace('_', '-')} must be positive")
    import uvicorn

    from digitrec.web.app import create_app, one_thread_per_image

    settings = ServerSettings(
        args.model, args.max_bytes, args.max_pixels, args.max_batch, args.threads
    )
    app = create_app(settings)  # loads the model: a bad one fails here, before listening
    sockets = listen(args.host, args.port, args.workers)
    one_thread_per_image()
    host, port = sockets[0].getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    logging.getLogger("digitrec").info(
        "digitrec: serving model %s on http://%s:%d/ (API described at /docs; Ctrl-C stops)",
        args.model,
        shown,
        port,
    )
    options = {"log_level": "warning", "access_log": args.access_log}
    try:
        if args.workers == 1:
            config = uvicorn.Config(app, timeout_graceful_shutdown=5, **options)
            uvicorn.Server(config).run(sockets=sockets)
        else:
            # Each worker process builds its own app from these settings (see app_from_environment).
            os.environ[SETTINGS_ENVIRONMENT] = json.dumps(dataclasses.asdict(settings))
            factory = "digitrec.web.app:app_from_environment"
            worker_config = {"app": factory, "factory": True, "timeout_graceful_shutdown": 5}
            return run_workers(worker_config | options, sockets)
    finally:
        for sock in sockets:
            sock.close()
    return 0
