"""Getting the image bytes out of a request, and reading them off the event loop."""

from __future__ import annotations

from typing import Any

import anyio
import numpy as np
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from digitrec.errors import DigitrecError
from digitrec.web.catalog import ModelCatalog
from digitrec.web.schemas import prediction_json

RAW_BODY_NAME = "body"
# Raw bodies are accepted with these types; the image's real type is sniffed from its bytes.
RAW_TYPES = ("image/", "application/octet-stream")


class BadRequest(DigitrecError):
    """The request itself is malformed (no image in it, wrong content type)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def request_images(
    request: Request, field: str, max_files: int, too_many: str
) -> list[tuple[str, bytes]]:
    """(name, bytes) of the images in a multipart form field, or of the raw body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        try:
            form = await request.form(max_files=max_files, max_fields=max_files + 16)
        except HTTPException as error:  # Starlette's words; ours say what to do instead
            if str(error.detail).startswith("Too many files"):
                raise BadRequest(too_many) from None
            raise BadRequest(f"malformed multipart body: {error.detail}") from None
        try:
            uploads = [item for item in form.getlist(field) if isinstance(item, UploadFile)]
            if not uploads:
                raise BadRequest(f"no image in the multipart field '{field}'")
            return [
                (_clean_name(upload.filename, field), await upload.read()) for upload in uploads
            ]
        finally:
            await form.close()
    if content_type.startswith(RAW_TYPES):
        return [(RAW_BODY_NAME, await request.body())]
    shown = content_type or "none"
    raise BadRequest(
        f"send the image as multipart field '{field}' or as the body with an image/* "
        f"content type (got content type {shown})",
        415,
    )


def _clean_name(filename: str | None, fallback: str) -> str:
    """The upload's name as shown in answers and error lines: no folders, no control
    characters (a newline would break the one-line messages), not endless."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c if c.isprintable() else "?" for c in name)[:200]
    return name or fallback


class Reader:
    """Runs the image pipeline in worker threads, at most `concurrency` images at a time: the
    event loop stays free for other requests, and big images cannot pile up in memory."""

    def __init__(self, catalog: ModelCatalog, concurrency: int) -> None:
        self.catalog = catalog
        self.limiter = anyio.CapacityLimiter(concurrency)

    async def read(
        self,
        images: list[tuple[str, bytes]],
        *,
        model: str | None,
        single: bool,
        probabilities: bool,
        keep_errors: bool,
    ) -> list[dict[str, Any]]:
        name = model or self.catalog.default

        def work() -> list[dict[str, Any]]:
            predictor = self.catalog.predictor(name)  # loads the model on its first use
            results = []
            for source, data in images:
                try:
                    reading = predictor.read_bytes(data, source=source, single=single)
                except DigitrecError as error:
                    if not keep_errors:
                        raise
                    results.append(prediction_json(source, name, None, str(error)))
                    continue
                shares = None
                if probabilities and reading.inputs:
                    # Readings keep only the top three; the page's bar chart wants all ten.
                    shares = predictor.classifier.predict_proba(np.stack(reading.inputs))
                results.append(prediction_json(source, name, reading, None, shares))
            return results

        return await anyio.to_thread.run_sync(work, limiter=self.limiter)
