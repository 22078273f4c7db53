"""``python -m harness.run ...`` as a real process of its own, started from a copy of one that has
already imported what a job imports (torch, scipy, pandas, River, Hydra, the harness): each command
a test runs skips the seconds of imports every fresh interpreter pays, and is otherwise that command.

:func:`run` takes :func:`subprocess.run`'s arguments. A command of another program, or one whose
environment differs in what an interpreter reads as it starts or imports (``PYTHON*``, matplotlib's
and the thread libraries' settings, ``HOME``, ``XDG_*``), or that needs stdin or other streams than
captured text, runs in a fresh interpreter, by :func:`subprocess.run` itself.

The preloaded process (one per test process, started on first use) reads a request per line: the
arguments, working directory, environment and two output files; it forks, and the child becomes the
command: its directory, environment, ``sys.argv``, ``sys.path`` (the working directory first, as ``-m``
puts it, then ``PYTHONPATH``'s entries) and standard streams are the command's, and it runs ``harness.run`` as ``__main__`` with
:func:`runpy.run_module`, as ``python -m`` does; its exit (atexit handlers, flushed streams, an
uncaught exception's traceback and exit code 1) is the interpreter's own.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULE = "harness.run"
# What a job of the command line imports, besides the entry module (importing it here would make
# runpy's __main__ a second copy and warn); torch imports torch._dynamo when a first optimiser is made
PRELOAD = ("torch", "torch._dynamo", "torch.export", "scipy.stats", "pandas", "river.linear_model", "river.tree",
           "river.drift", "river.preprocessing", "hydra", "harness.validation.command_line", "harness.pipeline.jobs",
           "harness.pipeline.experiment", "harness.pipeline.sweep", "harness.monitor.pipeline", "harness.results.store",
           "harness.figures.per_run", "harness.figures.stream_view", "hydra_plugins.harness_grid_sweeper.grid_sweeper")
# Environment read when an interpreter starts or a module is imported: a command that sets these
# otherwise than the preloaded process runs in a fresh interpreter
READ_AT_START = ("PYTHON", "MPL", "OMP_", "MKL_", "OPENBLAS_", "KMP_", "TORCH", "HOME", "XDG_")


def run(command: list[str], *, cwd=None, env=None, timeout=None, check=False, capture_output=False, text=False,
        **other) -> subprocess.CompletedProcess:
    """:func:`subprocess.run` of ``command``; ``python -m harness.run ...`` from the preloaded process."""
    env = dict(os.environ if env is None else env)
    if not (command[:3] == [sys.executable, "-m", MODULE] and capture_output and text and not other
            and starts_alike(env)):
        return subprocess.run(command, cwd=cwd, env=env, timeout=timeout, check=check, capture_output=capture_output,
                              text=text, **other)
    with tempfile.TemporaryDirectory(prefix="preloaded-") as folder:
        out, err = Path(folder, "out"), Path(folder, "err")
        code = _server().run({"argv": command[3:], "cwd": str(Path(cwd or os.getcwd()).resolve()), "env": env,
                              "out": str(out), "err": str(err)}, timeout, command, out, err)
        done = subprocess.CompletedProcess(command, code, out.read_text(errors="replace"),
                                           err.read_text(errors="replace"))
    if check:
        done.check_returncode()
    return done


def starts_alike(env: dict[str, str]) -> bool:
    """Whether a fresh interpreter in ``env`` would start and import as the preloaded process did."""
    preloaded = _environment()
    keys = {k for k in {*env, *preloaded} if k.startswith(READ_AT_START) and k != "PYTHONPATH"}  # sys.path: become
    return all(env.get(k) == preloaded.get(k) for k in keys)


def python_path(env) -> list[str]:
    return [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


class _Server:
    def __init__(self) -> None:
        self.log = tempfile.NamedTemporaryFile(prefix="preloaded-", suffix=".log")
        self.process = subprocess.Popen([sys.executable, "-m", "tests.preloaded"], cwd=ROOT, env=_environment(),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, bufsize=0)
        self.pending = b""
        if self._line(600) != "ready":
            raise RuntimeError(f"the preloaded process did not start: {Path(self.log.name).read_text()}")

    def run(self, request: dict, timeout, command, out: Path, err: Path) -> int:
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        pid = int(self._line(60))
        try:
            return int(self._line(timeout))
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            self._line(60)
            raise subprocess.TimeoutExpired(command, timeout, out.read_text(), err.read_text()) from None

    def _line(self, timeout) -> str:
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.process.stdout], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired("preloaded", timeout)
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"the preloaded process ended: {Path(self.log.name).read_text()}")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.log.close()


_running: list[_Server] = []


def _server() -> _Server:
    if not _running or _running[0].process.poll() is not None:
        _running[:] = [_Server()]
        atexit.register(_running[0].close)
    return _running[0]


def serve() -> None:
    """The preloaded process: import, then fork a child per request line on stdin; reply with the
    child's pid, then its exit code (negative: the signal that ended it), one line each."""
    requests, replies = os.fdopen(os.dup(0), "rb", buffering=0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    for name in PRELOAD:
        import_module(name)
    assert MODULE not in sys.modules, f"{MODULE} was imported by the preloaded modules"
    gc.freeze()  # a child's collections skip what was imported here (and so leave its pages shared)
    os.write(replies, b"ready\n")
    for line in requests:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            requests.close()
            os.close(replies)
            become(request)  # the command's exit is this process's
        os.write(replies, f"{pid}\n".encode())
        _, status = os.waitpid(pid, 0)
        os.write(replies, f"{os.waitstatus_to_exitcode(status)}\n".encode())


def become(request: dict) -> None:
    """Run ``python -m harness.run`` with the request's arguments, directory, environment and outputs."""
    import importlib
    import runpy

    own = len(python_path(os.environ))  # this process's PYTHONPATH entries, after its working directory
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, request["out"], os.O_WRONLY | os.O_CREAT),
                            (2, request["err"], os.O_WRONLY | os.O_CREAT)):
        opened = os.open(path, flags, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = [MODULE, *request["argv"]]
    # an interpreter's path: the working directory (-m), PYTHONPATH's entries, then the installation's
    sys.path[:1 + own] = [request["cwd"], *python_path(request["env"])]
    importlib.invalidate_caches()
    runpy.run_module(MODULE, run_name="__main__", alter_sys=True)
    sys.exit(0)


if __name__ == "__main__":
    serve()
