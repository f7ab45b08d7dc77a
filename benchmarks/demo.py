"""Wall time of ``make demo`` from a fresh clone, and the peak resident memory of everything it
started (the Ray system included), sampled across the whole process tree.

    .venv/bin/python benchmarks/demo.py [--bars N] [--keep]

The baseline measured in the same run is a bare ``ray.init()`` + ``ray.shutdown()`` in the same
fresh virtualenv: the demo's cost over Ray's own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import contextlib

from benchmarks._common import emit, machine

REPO = Path(__file__).resolve().parents[1]


def tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def run_measured(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, int, str]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    root = psutil.Process(proc.pid)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss(root))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    stop.set()
    sampler.join()
    return time.perf_counter() - t0, peak, proc.returncode, out.decode(errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true", help="keep the clone for inspection")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tapeline-clone-"))
    clone = tmp / "tapeline"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    env["CI"] = "1"  # no dashboard, as in CI
    try:
        wall, peak, rc, out = run_measured(["make", "demo"], clone, env)
        print(out[-3000:])
        if rc != 0:
            raise SystemExit(f"make demo failed with {rc}")
        bare = (
            "import ray,os;os.environ.setdefault('RAY_AUTH_MODE','disabled');"
            "ray.init(num_cpus=2,include_dashboard=False,object_store_memory=200*2**20);"
            "ray.shutdown()"
        )
        ray_wall, ray_peak, _, _ = run_measured(
            [str(clone / ".venv/bin/python"), "-c", bare], clone, env
        )
        again_wall, again_peak, _, _ = run_measured(["make", "demo"], clone, env)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    emit(
        {
            "make_demo_fresh_clone_s": round(wall, 1),
            "make_demo_installed_s": round(again_wall, 1),
            "demo_peak_rss_mb": round(max(peak, again_peak) / 2**20),
            "bare_ray_init_s": round(ray_wall, 1),
            "bare_ray_peak_rss_mb": round(ray_peak / 2**20),
            "demo_rss_ratio_to_bare_ray": round(max(peak, again_peak) / max(ray_peak, 1), 2),
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
