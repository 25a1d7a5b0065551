"""The REST API (digitrec.web) in-process: good images, every kind of bad input, size limits,
batches, model choice, and the `serve` command's start-up errors."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from digitrec.cli import main
from digitrec.models.loading import shipped_models
from digitrec.web.app import create_app
from digitrec.web.schemas import BatchOut, ModelsOut, PredictionOut
from digitrec.web.settings import ServerSettings
from tests.conftest import mnist_png_bytes

PREDICT = "/api/v1/predict"
BATCH = "/api/v1/predict/batch"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def digits(mnist_parts):
    """Five MNIST test digits as PNG scans, with their labels."""
    _, test = mnist_parts
    return [(mnist_png_bytes(test.images[i]), str(test.labels[i])) for i in range(5)]


def _png(pixels: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", **options)
    return buffer.getvalue()


def _number(mnist_parts, indices: list[int]) -> tuple[bytes, str]:
    """MNIST digits side by side on white paper, as a PNG, and the number they make."""
    _, test = mnist_parts
    tiles = [np.asarray(Image.fromarray(255 - test.images[i]).resize((112, 112))) for i in indices]
    gap = np.full((112, 16), 255, np.uint8)
    row = np.pad(np.hstack([p for tile in tiles for p in (tile, gap)]), 40, constant_values=255)
    return _png(row), "".join(str(test.labels[i]) for i in indices)


def _bad(response, status: int, words: str) -> None:
    """A client error: the expected status, and one line of JSON detail naming the problem."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and "Traceback" not in detail
    assert words.lower() in detail.lower(), detail


# ---------- good images ----------


def test_health_models_and_openapi(client):
    assert client.get("/healthz").json() == {"status": "ok", "model": "default"}
    models = ModelsOut.model_validate(client.get("/api/v1/models").json()).models
    default = next(model for model in models if model.name == "default")
    assert default.default and default.shipped and default.architecture == "fastcnn"
    assert default.metrics["test_accuracy"] > 0.99
    paths = client.get("/openapi.json").json()["paths"]
    assert {PREDICT, BATCH, "/api/v1/models", "/healthz"} <= set(paths)
    assert "multipart/form-data" in paths[PREDICT]["post"]["requestBody"]["content"]


def test_predict_gives_the_cli_json_plus_the_inputs(client, digits, tmp_path, capsys):
    data, label = digits[0]
    response = client.post(PREDICT, files={"file": ("digit.png", data, "image/png")})
    assert response.status_code == 200
    result = response.json()
    PredictionOut.model_validate(result)
    assert result["text"] == label and result["file"] == "digit.png"
    assert result["model"] == "default" and result["error"] is None
    [digit] = result["digits"]
    assert digit["digit"] == int(label) and len(digit["top"]) == 3 and len(digit["box"]) == 4
    # The 28x28 image the model saw, as a PNG.
    seen = Image.open(io.BytesIO(base64.b64decode(result["inputs"][0])))
    assert seen.size == (28, 28) and seen.mode == "L"
    # Exactly what `digitrec predict --json` says about the same file.
    path = tmp_path / "digit.png"
    path.write_bytes(data)
    assert main(["predict", "--json", str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {key: result[key] for key in printed if key != "file"} == {
        key: value for key, value in printed.items() if key != "file"
    }


@pytest.mark.parametrize("content_type", ["image/png", "image/jpeg", "application/octet-stream"])
def test_raw_body_type_is_sniffed_from_the_bytes(client, digits, content_type):
    data, label = digits[1]  # a PNG, whatever the header claims
    response = client.post(PREDICT, content=data, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    assert response.json()["text"] == label and response.json()["file"] == "body"


def test_numbers_boxes_single_and_probabilities(client, mnist_parts):
    data, text = _number(mnist_parts, [3, 2, 1])
    result = client.post(PREDICT, content=data, headers={"Content-Type": "image/png"}).json()
    assert result["text"] == text and len(result["inputs"]) == 3
    lefts = [digit["box"][0] for digit in result["digits"]]
    assert lefts == sorted(lefts)
    single = client.post(f"{PREDICT}?single=true&probabilities=true", files={"file": data}).json()
    assert len(single["digits"]) == 1 and len(single["inputs"]) == 1
    [shares] = single["probabilities"]
    assert len(shares) == 10 and abs(sum(shares) - 1) < 1e-3
    assert int(np.argmax(shares)) == single["digits"][0]["digit"]


def test_blank_page_is_no_digit(client):
    blank = _png(np.full((200, 300), 245, np.uint8))
    result = client.post(PREDICT, files={"file": ("blank.png", blank)}).json()
    assert result["text"] == "" and result["digits"] == [] and result["inputs"] == []


def test_the_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    # Nothing from elsewhere: no absolute URLs in what the page loads.
    for text in (
        page.text,
        client.get("/static/app.js").text,
        client.get("/static/style.css").text,
    ):
        assert "http://" not in text and "https://" not in text


# ---------- bad input: 4xx with one line, never a 500 ----------


def _huge_header_png() -> bytes:
    """A valid 1x1 PNG whose header then claims 100,000 x 100,000 pixels."""
    data = bytearray(_png(np.zeros((1, 1), np.uint8)))
    ihdr = bytearray(data[12:29])  # chunk type + 13 bytes of header data
    ihdr[4:12] = struct.pack(">II", 100_000, 100_000)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "empty"),
        (b"just some text, not a picture", "not a supported image"),
        (b"%PDF-1.7\n" + bytes(200), "not a supported image"),
        ("truncated", "body"),
        ("huge", "too large"),
    ],
)
def test_bad_images_are_400(client, digits, body, words):
    if body == "truncated":
        body = digits[0][0][:300]
    elif body == "huge":
        body = _huge_header_png()
    response = client.post(PREDICT, content=body, headers={"Content-Type": "image/png"})
    _bad(response, 400, words)


def test_bad_requests_name_the_problem(client, digits):
    data = digits[0][0]
    _bad(client.post(PREDICT, content=data, headers={"Content-Type": "text/plain"}), 415, "image")
    _bad(client.post(PREDICT, content=data), 415, "content type")
    _bad(client.post(PREDICT, files={"photo": data}), 400, "field 'file'")
    text_field = client.post(PREDICT, data={"file": "not a file"}, files={"note": b"x"})
    _bad(text_field, 400, "field 'file'")
    two = [("file", ("a.png", data)), ("file", ("b.png", data))]
    _bad(client.post(PREDICT, files=two), 400, "batch")
    _bad(client.post(f"{PREDICT}?single=maybe", files={"file": data}), 422, "single")
    _bad(client.get(PREDICT), 405, "method")
    _bad(client.get("/api/v2/predict"), 404, "not found")


@pytest.mark.parametrize("name", ["nope", "../../etc/passwd", "/etc/passwd", "runs"])
def test_only_catalog_models_can_be_chosen(client, digits, name):
    response = client.post(PREDICT, params={"model": name}, files={"file": digits[0][0]})
    _bad(response, 404, "no model")


def test_a_shipped_model_file_path_is_not_a_model_name(client, digits):
    path = str(shipped_models()["default"])
    _bad(client.post(PREDICT, params={"model": path}, files={"file": digits[0][0]}), 404, "model")


def test_size_limits(digits):
    app = create_app(ServerSettings(max_bytes=5_000, max_pixels=150 * 150))
    with TestClient(app, raise_server_exceptions=False) as small:
        big = _png(np.random.default_rng(0).integers(0, 255, (100, 100), dtype=np.uint8))
        assert len(big) > 5_000
        response = small.post(PREDICT, content=big, headers={"Content-Type": "image/png"})
        _bad(response, 413, "too large")
        # Without a Content-Length (chunked), the body is counted as it arrives.
        chunks = (big[i : i + 1000] for i in range(0, len(big), 1000))
        response = small.post(PREDICT, content=chunks, headers={"Content-Type": "image/png"})
        _bad(response, 413, "too large")
        _bad(small.post(PREDICT, files={"file": big}), 413, "too large")
        wide = _png(np.full((100, 400), 255, np.uint8), optimize=True)  # small file, 40,000 px
        assert len(wide) < 5_000
        _bad(small.post(PREDICT, files={"file": wide}), 400, "limit is 22500 pixels")
        assert small.post(PREDICT, files={"file": digits[0][0]}).status_code == 200


def test_a_bug_is_500_without_traceback_and_the_server_goes_on(digits, monkeypatch):
    app = create_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        from digitrec.predictor import Predictor

        def broken(*args, **kwargs):
            raise RuntimeError("secret internals")

        monkeypatch.setattr(Predictor, "read_bytes", broken)
        response = client.post(PREDICT, files={"file": digits[0][0]})
        assert response.status_code == 500
        assert response.json() == {"detail": "internal error (RuntimeError); see the server log"}
        monkeypatch.undo()
        assert client.post(PREDICT, files={"file": digits[0][0]}).status_code == 200


# ---------- batch and model choice ----------


def test_batch_reads_each_image_and_reports_each_failure(client, digits):
    files = [("files", (f"d{i}.png", data)) for i, (data, _) in enumerate(digits[:3])]
    files.insert(1, ("files", ("broken.png", b"not an image")))
    response = client.post(BATCH, files=files)
    assert response.status_code == 200
    results = BatchOut.model_validate(response.json()).results
    assert [r.file for r in results] == ["d0.png", "broken.png", "d1.png", "d2.png"]
    assert [r.text for r in results] == [digits[0][1], None, digits[1][1], digits[2][1]]
    assert "not a supported image" in results[1].error


def test_batch_limits(digits):
    with TestClient(create_app(ServerSettings(max_batch=2))) as client:
        files = [("files", (f"d{i}.png", data)) for i, (data, _) in enumerate(digits[:3])]
        _bad(client.post(BATCH, files=files), 400, "files")
        _bad(client.post(BATCH, files={"file": digits[0][0]}), 400, "field 'files'")
        assert len(client.post(BATCH, files=files[:2]).json()["results"]) == 2


def test_the_served_model_and_the_shipped_ones_are_choosable(tmp_path, digits):
    run = tmp_path / "my-run"
    run.mkdir()
    shutil.copy(shipped_models()["default"], run / "model.safetensors")
    with TestClient(create_app(ServerSettings(model=str(run)))) as client:
        assert client.get("/healthz").json()["model"] == str(run)
        models = {m["name"]: m for m in client.get("/api/v1/models").json()["models"]}
        assert models[str(run)]["default"] and not models[str(run)]["shipped"]
        assert not models["default"]["default"]
        data, label = digits[2]
        for name in (str(run), "default"):
            result = client.post(PREDICT, params={"model": name}, files={"file": data}).json()
            assert (result["model"], result["text"]) == (name, label)
        assert client.post(PREDICT, files={"file": data}).json()["model"] == str(run)


# ---------- the serve command ----------


def test_serve_fails_in_one_line_on_a_bad_model_or_a_busy_port(capsys):
    assert main(["serve", "--model", "no-such-model", "--port", "0"]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
        error = capsys.readouterr().err
    assert error.startswith("digitrec: error: cannot listen on 127.0.0.1:") and "in use" in error
    assert main(["serve", "--max-bytes", "0"]) == 1


def test_serve_with_two_worker_processes_answers_and_stops(digits):
    process = subprocess.Popen(
        [sys.executable, "-m", "digitrec", "serve", "--port", "0", "--workers", "2"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stderr.readline()  # type: ignore[union-attr]
        url = re.search(r"(http://\S+/)", line).group(1)  # type: ignore[union-attr]
        request = urllib.request.Request(
            url + PREDICT[1:], data=digits[0][0], headers={"Content-Type": "image/png"}
        )
        deadline = time.monotonic() + 60
        while True:  # the workers load the model after the parent has printed the address
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    assert json.load(response)["text"] == digits[0][1]
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline, "no worker answered within 60 s"
                time.sleep(0.2)
        # A worker that dies is started again.
        first = _worker_pids(process.pid)
        assert len(first) == 2
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(now := _worker_pids(process.pid)) != 2 or first[0] in now:
            assert time.monotonic() < deadline, "the killed worker was not replaced in 30 s"
            time.sleep(0.2)
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0


def _worker_pids(parent: int) -> list[int]:
    """The server's worker processes: its children that multiprocessing spawned to work (not
    its resource tracker)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    pids = []
    for pid in map(int, children):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue  # ended meanwhile
        if b"spawn_main" in command:
            pids.append(pid)
    return sorted(pids)


def test_a_server_process_reads_each_image_on_one_thread() -> None:
    # In a child process: the setting is process-wide and would slow the other tests here.
    probe = (
        "import cv2, torch\n"
        "from digitrec.web.app import one_thread_per_image\n"
        "one_thread_per_image()\n"
        "print(cv2.getNumThreads(), torch.get_num_threads())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["1", "1"]


def test_worker_sockets_share_one_port_and_the_kernel_spreads_connections() -> None:
    # Each worker of `serve --workers N` accepts on a socket of its own: connections to the one
    # port land on all of them, not all on whichever worker woke first.
    from digitrec.web.workers import listening_sockets

    sockets = listening_sockets(("127.0.0.1", 0), socket.AF_INET, 2)
    try:
        port = sockets[0].getsockname()[1]
        assert sockets[1].getsockname()[1] == port != 0
        clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(16)]
        accepted = []
        for sock in sockets:
            sock.settimeout(0.5)
            count = 0
            while True:
                try:
                    sock.accept()[0].close()
                except TimeoutError:
                    break
                count += 1
            accepted.append(count)
        for client in clients:
            client.close()
        # 16 connections hashed over 2 sockets: all on one has odds of 1 in 32,768.
        assert sum(accepted) == 16 and min(accepted) >= 1
    finally:
        for sock in sockets:
            sock.close()
