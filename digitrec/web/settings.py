"""What a server allows and how it runs; plain values, importable without FastAPI."""

from __future__ import annotations

from dataclasses import dataclass

from digitrec.models.loading import DEFAULT_MODEL

DEFAULT_MAX_BYTES = 10 * 2**20
# A phone photo is 12 megapixels; decoded as float RGB that is already 150 MB, so the server's
# default stays well under the CLI's 50 megapixels.
DEFAULT_MAX_PIXELS = 20_000_000
DEFAULT_MAX_BATCH = 32
# How `digitrec serve --workers N` hands the settings to its worker processes.
SETTINGS_ENVIRONMENT = "DIGITREC_SERVE_SETTINGS"


@dataclass(frozen=True)
class ServerSettings:
    model: str = DEFAULT_MODEL  # the default model; the shipped ones can be chosen as well
    max_bytes: int = DEFAULT_MAX_BYTES  # request body
    max_pixels: int = DEFAULT_MAX_PIXELS  # per image, checked before decoding
    max_batch: int = DEFAULT_MAX_BATCH  # images per batch request
    threads: int = 2  # images read at once (worker threads running the pipeline)
