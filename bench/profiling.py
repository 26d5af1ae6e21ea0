"""py-spy on a server worker during one of bench/suite.py's timed runs."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import ROOT


@dataclass
class Profiler:
    """py-spy on one process while the block runs; ``summary()`` names the hot functions."""

    pid: int
    output: Path
    rate: int = 250
    process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Profiler:
        py_spy = shutil.which("py-spy") or str(ROOT / ".venv/bin/py-spy")
        self.process = subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(self.pid),
                "--rate",
                str(self.rate),
                "--format",
                "raw",
                "--nonblocking",
                "--gil",  # samples of the thread holding the GIL: where the CPU goes
                "--output",
                str(self.output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)  # let it attach before the load starts
        return self

    def __exit__(self, *_: object) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its output and exits
            self.process.wait(timeout=60)

    def summary(self, top: int = 15) -> list[tuple[float, float, str]]:
        """(inclusive %, self %, function) of the project's and the top functions."""
        inclusive: dict[str, int] = {}
        own: dict[str, int] = {}
        total = 0
        if not self.output.exists():
            return []
        for line in self.output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            # A frame is "function (file:line)": drop the line so a function counts once.
            frames = [f.rsplit(":", 1)[0] + ")" for f in stack.split(";")]
            total += n
            own[frames[-1]] = own.get(frames[-1], 0) + n
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + n
        if not total:
            return []
        ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])
        ours = [kv for kv in ranked if "inquicker/" in kv[0]][:top]
        return [
            (round(100 * n / total, 1), round(100 * own.get(f, 0) / total, 1), f) for f, n in ours
        ]
