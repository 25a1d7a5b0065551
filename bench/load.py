"""Load benchmark: `digitrec serve` driven on loopback by concurrent keep-alive clients.

The server runs as its own process, started here on a free port, exactly as a user starts it.
The client is a small asyncio HTTP/1.1 client over raw sockets (a pre-built request, a minimal
response parser) so that it costs far less CPU than the server it measures: on a 2-core machine
both share the cores. Each case runs for a fixed time; every request must succeed.

    python -m bench.load [--clients 8] [--seconds 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from digitrec.data.datasets import load_test_set

CLIENTS = 8
SECONDS = 20.0
WORKERS = 2
TARGET_RATE = 500  # single-digit predictions per second, on 2 cores
TARGET_P99_MS = 50.0
IMAGES_PER_CASE = 16  # different images in turn, so no answer is ever the same bytes twice in a row


@dataclass
class Case:
    name: str
    path: str  # with the query
    bodies: list[bytes]
    describe: str


@dataclass
class Result:
    case: Case
    clients: int
    seconds: float
    latencies: list[float]  # seconds, one per successful request
    failures: list[str]
    server_cpu: float  # CPU seconds the server's processes used during the run

    @property
    def cpu_ms(self) -> float:
        """Server CPU per request: what bounds the rate on a given number of cores."""
        return self.server_cpu / max(1, len(self.latencies)) * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000 if self.latencies else float("nan")


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _scan(digit: np.ndarray, size: int = 112) -> np.ndarray:
    """An MNIST digit as a scan: dark ink on white paper, enlarged."""
    return np.asarray(Image.fromarray(255 - digit).resize((size, size), Image.BILINEAR))


def make_cases() -> list[Case]:
    test = load_test_set("mnist")
    rng = np.random.default_rng(0)
    tiny, singles, numbers = [], [], []
    for _ in range(IMAGES_PER_CASE):
        tiny.append(_png(255 - test.images[rng.integers(len(test))]))
        singles.append(_png(_scan(test.images[rng.integers(len(test))])))
        picks = rng.integers(len(test), size=5)
        gap = np.full((112, 16), 255, np.uint8)
        row = np.hstack([part for i in picks for part in (_scan(test.images[i]), gap)])
        numbers.append(_png(np.pad(row, 40, constant_values=255)))
    return [
        Case("health check", "/healthz", [b""], "`GET /healthz`: the HTTP layer alone, no image"),
        Case(
            "single digit 28x28",
            "/api/v1/predict?single=true",
            tiny,
            "an MNIST test digit as it is, 28x28, dark on white (about 0.4 KB), `?single=true`",
        ),
        Case(
            "single digit",
            "/api/v1/predict?single=true",
            singles,
            "an MNIST test digit enlarged to 112x112, the size the page sends a drawing at "
            "(about 2 KB), `?single=true`",
        ),
        Case(
            "5-digit number",
            "/api/v1/predict",
            numbers,
            "five MNIST test digits in a row, a 720x192 PNG (about 10 KB)",
        ),
    ]


def start_server(workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    """`digitrec serve` on a free loopback port; returns the process and its URL once healthy."""
    command = [sys.executable, "-m", "digitrec", "serve", "--port", "0"]
    command += ["--workers", str(workers), "--threads", str(threads)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    url = None
    while url is None and time.monotonic() < deadline:
        line = process.stderr.readline()  # type: ignore[union-attr]
        if not line:
            raise RuntimeError(f"digitrec serve exited with code {process.wait()}")
        found = re.search(r"(http://\S+/)", line)
        url = found.group(1) if found else None
    if url is None:
        process.kill()
        raise RuntimeError("digitrec serve did not start within 120 s")
    # Keep reading its log, so that a full pipe can never stall the server.
    threading.Thread(target=process.stderr.read, daemon=True).start()  # type: ignore[union-attr]
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=5) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("digitrec serve never answered /healthz")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def server_cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and all its descendants (the workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # a process that ended meanwhile
    return total


async def _client(host, port, requests, stop_at, latencies, failures) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    index = 0
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(requests[index % len(requests)])
            index += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
            body = await reader.readexactly(int(length.group(1))) if length else b""
            if status != 200:
                failures.append(f"HTTP {status}: {body[:200]!r}")
            else:
                latencies.append(time.perf_counter() - started)
    except (OSError, asyncio.IncompleteReadError) as error:
        failures.append(f"connection: {error!r}")
    finally:
        writer.close()


def drive(url: str, case: Case, clients: int, seconds: float, server_pid: int) -> Result:
    """`clients` connections sending `case`'s images back to back for `seconds`."""
    found = re.match(r"http://([^:/]+):(\d+)/", url)
    host, port = found.group(1), int(found.group(2))  # type: ignore[union-attr]
    method = "POST" if case.path.startswith("/api/") else "GET"
    requests = [
        (
            f"{method} {case.path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: image/png\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in case.bodies
    ]
    latencies: list[float] = []
    failures: list[str] = []

    async def main() -> float:
        # A short warm-up first, so the first requests' one-off costs are not measured.
        await asyncio.gather(
            *(
                _client(host, port, requests, time.perf_counter() + 1, [], [])
                for _ in range(clients)
            )
        )
        cpu = server_cpu_seconds(server_pid)
        started = time.perf_counter()
        stop_at = started + seconds
        await asyncio.gather(
            *(
                _client(host, port, requests[i:] + requests[:i], stop_at, latencies, failures)
                for i in range(clients)
            )
        )
        return time.perf_counter() - started, server_cpu_seconds(server_pid) - cpu

    elapsed, server_cpu = asyncio.run(main())
    return Result(case, clients, elapsed, latencies, failures, server_cpu)


def pipeline_ms(case: Case) -> float | None:
    """Median CPU time of the image pipeline alone for the case's images, in this process on
    one thread: what one request costs the server before any HTTP, the ceiling on its rate."""
    if not case.path.startswith("/api/"):
        return None
    import torch
    from threadpoolctl import threadpool_limits

    from digitrec.models.loading import load_classifier
    from digitrec.predictor import Predictor

    predictor = Predictor(load_classifier("default"))
    single = "single=true" in case.path
    times = []
    # One thread, as in the server; restored after, for the benchmarks that run after this one.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            for _ in range(3):
                for body in case.bodies:
                    started = time.process_time()
                    predictor.read_bytes(body, single=single)
                    times.append(time.process_time() - started)
    finally:
        torch.set_num_threads(previous)
    return float(np.median(times)) * 1000


def report(
    results: list[Result],
    pipeline: list[float | None],
    workers: int,
    threads: int,
    background: float,
) -> str:
    lines = [
        "## Web server under load (`digitrec serve`)",
        "",
        f"`bench/load.py` starts `digitrec serve --workers {workers} --threads {threads}` and "
        "drives it over loopback with concurrent keep-alive clients (asyncio, raw HTTP/1.1) on "
        "the same machine, so server and client share the cores. Every image goes through the "
        "whole pipeline (decode, normalization, segmentation, model, JSON with the 28x28 inputs "
        "as PNG); clean images up to 1024 px (the single digits and the number here) "
        "take its fast path (`digitrec/vision/clean.py`). *server CPU ms/request* is the CPU "
        "time all server processes used during the "
        "run divided by the requests served, which bounds the rate at 1000/x per free core; "
        "*pipeline ms* is the CPU time of the image pipeline alone (one thread, no HTTP), "
        "measured in the benchmark's process. Target on 2 cores: at least "
        f"{TARGET_RATE} single-digit predictions/s with p99 under {TARGET_P99_MS:.0f} ms.",
        "",
        "| request | clients | s | requests | requests/s | p50 ms | p99 ms | max ms | failed "
        "| server CPU ms/request | pipeline ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r, cost in zip(results, pipeline, strict=True):
        lines.append(
            f"| {r.case.name} | {r.clients} | {r.seconds:.0f} | {len(r.latencies)} | "
            f"{r.rate:.0f} | {r.percentile_ms(50):.1f} | {r.percentile_ms(99):.1f} | "
            f"{r.percentile_ms(100):.1f} | {len(r.failures)} | {r.cpu_ms:.2f} | "
            f"{'-' if cost is None else f'{cost:.1f}'} |"
        )
    lines.append("")
    lines += [f"- {r.case.name}: {r.case.describe}." for r in results]
    lines += [
        "",
        f"Before the run the 1-minute load average was {background:.1f} on {os.cpu_count()} "
        "cores (other jobs running beside it take their share of the cores).",
    ]
    named = {r.case.name: (r, c) for r, c in zip(results, pipeline, strict=True)}
    (single, cost), (health, _) = named["single digit"], named["health check"]
    cost = cost or 0.0
    met = single.rate >= TARGET_RATE and single.percentile_ms(99) < TARGET_P99_MS
    lines += [
        "",
        f"Target {'met' if met else '**not met**'}: {single.rate:.0f} single-digit "
        f"predictions/s with p99 {single.percentile_ms(99):.1f} ms. At {single.cpu_ms:.1f} ms "
        f"of server CPU per request, 2 free cores could serve at most "
        f"{2000 / single.cpu_ms:.0f} per second with no client beside them; {cost:.1f} ms of "
        "that is the image pipeline itself (decode, normalization, segmentation, model), "
        f"while the HTTP layer costs {health.cpu_ms:.2f} ms a request.",
    ]
    return "\n".join(lines) + "\n"


def load_benchmark(
    runs_dir: Path | None = None,
    *,
    clients: int = CLIENTS,
    seconds: float = SECONDS,
    workers: int = WORKERS,
    threads: int = 1,
) -> str:
    """The Markdown section for BENCHMARKS.md (`runs_dir` is unused: nothing is written)."""
    cases = make_cases()
    # Other work on the machine takes cores from server and client alike: say how much there was.
    background = os.getloadavg()[0]
    pipeline = [pipeline_ms(case) for case in cases]  # before the server runs, not beside it
    process, url = start_server(workers, threads)
    try:
        results = []
        for case in cases:
            result = drive(url, case, clients, seconds, server_pid=process.pid)
            print(
                f"{case.name}: {result.rate:.0f} requests/s, p50 {result.percentile_ms(50):.1f} "
                f"ms, p99 {result.percentile_ms(99):.1f} ms, {len(result.failures)} failed",
                flush=True,
            )
            results.append(result)
    finally:
        stop_server(process)
    failed = [f for r in results for f in r.failures]
    if failed:
        raise RuntimeError(f"{len(failed)} requests failed under load, first: {failed[0]}")
    return report(results, pipeline, workers, threads, background)


def main() -> None:
    parser = argparse.ArgumentParser(description="Drive digitrec serve and print the figures.")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(
        load_benchmark(
            clients=args.clients, seconds=args.seconds, workers=args.workers, threads=args.threads
        )
    )


if __name__ == "__main__":
    main()
