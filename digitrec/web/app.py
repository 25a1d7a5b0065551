"""The FastAPI app: REST API under /api/v1, the drawing page at /, health at /healthz.

Every failure a client can cause is answered 4xx with `{"detail": "<one line>"}`; anything else
is a bug, answered 500 with a generic line (the traceback goes to the server log, never into
the body), and the server keeps serving.
"""

from __future__ import annotations

import json
import logging
import os
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from digitrec import __version__
from digitrec.errors import DigitrecError
from digitrec.web.catalog import ModelCatalog, UnknownModelError
from digitrec.web.limits import BodyLimit, BodyTooLarge
from digitrec.web.reading import BadRequest, Reader, request_images
from digitrec.web.schemas import BatchOut, ErrorOut, HealthOut, ModelsOut, PredictionOut
from digitrec.web.settings import SETTINGS_ENVIRONMENT, ServerSettings

log = logging.getLogger("digitrec.web")

STATIC = Path(str(resources.files("digitrec.web") / "static"))
# Only our own files: the page loads nothing from elsewhere, and this makes sure of it.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


# Both ways of sending an image, for the OpenAPI description (the body is parsed by hand).
_IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "image/*": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                    "required": ["files"],
                }
            }
        },
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 404, 413, 415, 422)
}
ModelQuery = Annotated[str | None, Query(description="a name from /api/v1/models")]
SingleQuery = Annotated[bool, Query(description="read the whole image as one digit")]
ProbabilitiesQuery = Annotated[bool, Query(description="add every class probability per digit")]


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """The app, with the default model loaded now (so a broken one fails at start)."""
    settings = settings or ServerSettings()
    catalog = ModelCatalog(settings.model, max_pixels=settings.max_pixels)
    catalog.predictor()
    reader = Reader(catalog, settings.threads)
    # FastAPIOffline: FastAPI whose /docs and /redoc load Swagger UI and ReDoc from files of
    # its own package rather than a CDN, so the API description works offline too.
    app = FastAPIOffline(
        title="digitrec",
        version=__version__,
        description="Read handwritten digits in images. The page to draw on is at /.",
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_bytes)
    _add_error_handlers(app)

    @app.post(
        "/api/v1/predict",
        response_model=PredictionOut,
        responses=_ERRORS,
        openapi_extra=_IMAGE_BODY,
        summary="Read the digits in one image",
    )
    async def predict(
        request: Request,
        model: ModelQuery = None,
        single: SingleQuery = False,
        probabilities: ProbabilitiesQuery = False,
    ) -> JSONResponse:
        images = await request_images(
            request, "file", 1, "one image per request here; send several to /api/v1/predict/batch"
        )
        results = await reader.read(
            images, model=model, single=single, probabilities=probabilities, keep_errors=False
        )
        return JSONResponse(results[0])

    @app.post(
        "/api/v1/predict/batch",
        response_model=BatchOut,
        responses=_ERRORS,
        openapi_extra=_BATCH_BODY,
        summary="Read several images; an image that fails gets its own error",
    )
    async def predict_batch(
        request: Request,
        model: ModelQuery = None,
        single: SingleQuery = False,
        probabilities: ProbabilitiesQuery = False,
    ) -> JSONResponse:
        images = await request_images(
            request, "files", settings.max_batch, f"at most {settings.max_batch} files per batch"
        )
        results = await reader.read(
            images, model=model, single=single, probabilities=probabilities, keep_errors=True
        )
        return JSONResponse({"results": results})

    @app.get("/api/v1/models", response_model=ModelsOut, summary="The models to choose from")
    async def models() -> dict[str, Any]:
        return {"models": catalog.describe()}

    @app.get("/healthz", response_model=HealthOut, summary="Liveness")
    async def health() -> dict[str, str]:
        return {"status": "ok", "model": catalog.default}

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": PAGE_POLICY})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def one_thread_per_image() -> None:
    """Torch, BLAS and OpenCV on one thread each, for a server process: concurrency comes from
    reading several images at once, and nested thread pools on a busy machine made a small
    image's least-squares fit several times slower. OpenCV's pool alone cost a 112-px drawing
    3.6-4.0 ms of CPU instead of 2.6-3.0 (its filters are too small to share out)."""
    import cv2
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)
    cv2.setNumThreads(1)


def app_from_environment() -> FastAPI:
    """The app of one worker process of `digitrec serve --workers N` (a uvicorn factory): the
    settings come from the parent in SETTINGS_ENVIRONMENT, as JSON."""
    one_thread_per_image()
    return create_app(ServerSettings(**json.loads(os.environ[SETTINGS_ENVIRONMENT])))


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DigitrecError)
    async def bad_input(request: Request, error: DigitrecError) -> JSONResponse:
        if isinstance(error, BadRequest):
            return _detail(error.status, str(error))
        return _detail(404 if isinstance(error, UnknownModelError) else 400, str(error))

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, error: BodyTooLarge) -> JSONResponse:
        return _detail(413, str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's default is a list of dicts; one line naming the parameter is easier to read.
        problems = []
        for item in error.errors():
            where = " ".join(str(part) for part in item.get("loc", ()))
            problems.append(f"{where}: {item.get('msg', 'invalid')}")
        return _detail(422, "; ".join(problems) or "invalid request")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": str(error.detail)}, status_code=error.status_code, headers=error.headers
        )

    @app.exception_handler(MemoryError)
    async def out_of_memory(request: Request, error: MemoryError) -> JSONResponse:
        return _detail(503, "out of memory reading this image; try a smaller one")

    @app.exception_handler(Exception)
    async def bug(request: Request, error: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _detail(500, f"internal error ({type(error).__name__}); see the server log")
