"""The request size limit, enforced before and while the body arrives.

A Content-Length over the limit is refused at once; a body without one (chunked) is counted as
it streams in, and reading stops at the first byte over, so an endless upload costs nothing.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digitrec.web.settings import DEFAULT_MAX_BYTES


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body too large (limit is {limit} bytes)")


class BodyLimit:
    """ASGI middleware: at most `max_bytes` of request body per request."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            problem = None
            if not declared.strip().isdigit():
                problem = (400, "Content-Length is not a number")
            elif int(declared) > self.max_bytes:
                problem = (413, str(BodyTooLarge(self.max_bytes)))
            if problem:
                await JSONResponse({"detail": problem[1]}, problem[0])(scope, receive, send)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)  # answered 413 by the app's handler
            return message

        await self.app(scope, limited, send)
