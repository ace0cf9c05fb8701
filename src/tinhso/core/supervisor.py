"""A small process supervisor: run a command, start it again whenever it exits, stop it
cleanly on Ctrl-C or SIGTERM. `make run` runs the task worker under it:

    python -m tinhso.core.supervisor -- tinhso worker --queue-name '*'

Restarts wait a short back-off (1 s, doubling to 30 s while the command keeps failing
quickly; back to 1 s once it has run for ten seconds). On SIGINT or SIGTERM the supervisor
sends SIGTERM to the command once (the worker finishes its running task, then exits), waits
up to `--grace` seconds, then kills it. The command runs in its own process group, so a
Ctrl-C in the terminal reaches it once, through the supervisor, not twice; on Linux it
also gets SIGTERM if the supervisor itself is killed.

Standard library only, and no Django: it must keep running whatever the command does.
Production hosts may use systemd (`Restart=always`) instead; see docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from functools import partial
from types import FrameType


def _log(message: str) -> None:
    print(f"supervisor: {message}", file=sys.stderr, flush=True)


def _die_with(parent: int) -> None:
    """In the child, before it runs the command (Linux): SIGTERM it when the supervisor
    dies, even by SIGKILL, so that no worker is left running unsupervised.

    The child is forked with the supervisor's Python handlers for SIGTERM and SIGINT,
    which only set a flag; until exec replaces them, a SIGTERM (the death signal, or the
    one sent below) would be swallowed and the command run on unsupervised. So the
    default actions come back first."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # not Linux: the supervisor's own stop is all there is
    if os.getppid() != parent:  # the supervisor died before the line above
        os.kill(os.getpid(), signal.SIGTERM)


class Supervisor:
    """Keeps one command running until asked to stop."""

    def __init__(
        self,
        command: list[str],
        *,
        min_backoff: float = 1.0,
        max_backoff: float = 30.0,
        stable_after: float = 10.0,
        grace: float = 30.0,
    ) -> None:
        self.command = command
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.stable_after = stable_after
        self.grace = grace
        self.stopping = False
        self.child: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            return  # one stop is under way (make's trap and the terminal both signal)
        self.stopping = True
        _log(f"{signal.Signals(signum).name}: stopping")

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def _stop_child(self) -> int:
        child = self.child
        if child is None:
            return 0
        if child.poll() is None:
            child.terminate()  # once: a second SIGTERM would make the worker drop its task
        try:
            return child.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            _log(f"pid {child.pid} still running after {self.grace:.0f} s: killing it")
            child.kill()
            return child.wait()

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        delay = self.min_backoff
        while not self.stopping:
            started = time.monotonic()
            try:
                self.child = subprocess.Popen(  # noqa: S603
                    self.command, process_group=0, preexec_fn=partial(_die_with, os.getpid())
                )
            except OSError as exc:
                _log(f"cannot start {self.command[0]}: {exc}")
                return 127
            _log(f"started pid {self.child.pid}: {' '.join(self.command)}")
            while self.child.poll() is None and not self.stopping:
                time.sleep(0.2)
            if self.stopping:
                break
            code = self.child.returncode
            ran = time.monotonic() - started
            if ran >= self.stable_after:
                delay = self.min_backoff
            self.restarts += 1
            _log(
                f"pid {self.child.pid} exited with {code} after {ran:.0f} s; "
                f"restarting in {delay:g} s"
            )
            self._sleep(delay)
            delay = min(delay * 2, self.max_backoff)
        code = self._stop_child()
        _log(f"stopped (last exit status {code})")
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tinhso.core.supervisor",
        description="Run a command and start it again whenever it exits.",
    )
    parser.add_argument("--min-backoff", type=float, default=1.0, help="seconds (default 1)")
    parser.add_argument("--max-backoff", type=float, default=30.0, help="seconds (default 30)")
    parser.add_argument(
        "--grace", type=float, default=30.0, help="seconds to wait for a clean stop (default 30)"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- command and its arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    supervisor = Supervisor(
        command, min_backoff=args.min_backoff, max_backoff=args.max_backoff, grace=args.grace
    )
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
