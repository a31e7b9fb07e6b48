"""Run the fuzz targets under atheris (coverage-guided, libFuzzer's engine): ``make fuzz``.

    python -m fuzz.run [--runs 100000] [--only TARGET ...]

Each target runs in a process of its own, from its small seed corpus in
``fuzz/corpus/<target>/`` (read, never written: what the fuzzer finds goes to
a temporary folder).  A progress bar follows each run; at the end one line
per target, ``TARGET: N inputs, 0 crashes``.  A crash (anything escaping a
parser other than a typed ``HubError``) stops that target, keeps the input
that caused it, and makes the command fail.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNS = re.compile(rb"^#(\d+)\s")
DONE = re.compile(rb"^Done (\d+) runs")


def child(name: str, libfuzzer_args: list[str]) -> None:
    """In the child: instrument the hub's parsers, then hand the target to atheris."""
    import atheris

    with atheris.instrument_imports(include=["hub", "plugins"]):
        import hub.core.config  # noqa: F401
        import hub.core.rtsp  # noqa: F401
        import hub.devices.multipart  # noqa: F401
        import hub.devices.xml  # noqa: F401
        import plugins.dahua.parse  # noqa: F401
        import plugins.hikvision.parse  # noqa: F401
        import plugins.jaki_reports.client  # noqa: F401
        import plugins.onvif.client  # noqa: F401
        import plugins.onvif.parse  # noqa: F401
    from fuzz.targets import TARGETS

    fn = TARGETS[name]
    atheris.Setup([sys.argv[0], *libfuzzer_args], fn)
    atheris.Fuzz()


def run(name: str, runs: int, work: Path, progress: object, task: object) -> tuple[int, Path | None]:
    """One target for ``runs`` inputs: (inputs tried, the crashing input or None)."""
    found = work / name
    found.mkdir()
    seeds = HERE / "corpus" / name
    args = [f"-runs={runs}", "-max_len=8192", "-timeout=20", "-rss_limit_mb=2048", "-print_final_stats=1",
            f"-artifact_prefix={work}/{name}-", str(found), str(seeds)]
    proc = subprocess.Popen([sys.executable, "-m", "fuzz.run", "--child", name, "--", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stderr is not None
    tried, log = 0, []
    for line in proc.stderr:
        log.append(line)
        if (m := RUNS.match(line)) or (m := DONE.match(line)):
            tried = max(tried, int(m.group(1)))
            progress.update(task, completed=min(tried, runs))  # type: ignore[attr-defined]
    proc.wait()
    crashes = sorted(work.glob(f"{name}-crash-*")) + sorted(work.glob(f"{name}-timeout-*"))
    if proc.returncode != 0 or crashes:
        report = work / f"{name}.log"
        report.write_bytes(b"".join(log))
        return tried, crashes[0] if crashes else report
    return tried, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000, help="Inputs per target (default 100,000).")
    parser.add_argument("--only", nargs="*", help="Run only these targets.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        child(args.child, [a for a in rest if a != "--"])
        return 0

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from fuzz.targets import TARGETS

    names = args.only or list(TARGETS)
    unknown = sorted(set(names) - set(TARGETS))
    if unknown:
        parser.error(f"no target {', '.join(unknown)}; the targets are {', '.join(TARGETS)}")
    work = Path(tempfile.mkdtemp(prefix="pantau-fuzz-"))
    results: list[tuple[str, int, Path | None]] = []
    with Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) \
            as progress:
        for name in names:
            task = progress.add_task(name, total=args.runs)
            tried, crash = run(name, args.runs, work, progress, task)
            results.append((name, tried, crash))
    failed = False
    for name, tried, crash in results:
        if crash is None and tried >= args.runs:
            print(f"{name}: {tried} inputs, 0 crashes")
        else:
            failed = True
            print(f"{name}: {tried} inputs, 1 crash (the input, or the fuzzer's log: {crash})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
