"""Executes notebooks headless with nbclient and reports each one. Exits 1
when any notebook raises. Usage: run_notebooks.py [--check-drawing]
[NOTEBOOK ...] (default: every notebooks/*.ipynb).

--check-drawing runs them on the synthetic inputs in notebooks/fixtures/
(with results/walk-refs.csv when it exists) and writes figures to a
temporary directory; it fails when a notebook skips a figure."""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent


def main(arguments):
    check_drawing = "--check-drawing" in arguments
    arguments = [a for a in arguments if a != "--check-drawing"]
    if check_drawing:
        scratch = Path(tempfile.mkdtemp(prefix="vmemlab-notebooks-"))
        for fixture in (ROOT / "notebooks" / "fixtures").glob("*.csv"):
            shutil.copy(fixture, scratch)
        walk_refs = ROOT / "results" / "walk-refs.csv"
        if walk_refs.exists():
            shutil.copy(walk_refs, scratch)
        os.environ["VMEMLAB_RESULTS"] = str(scratch)
        os.environ["VMEMLAB_FIGURES"] = str(scratch / "figures")
    notebooks = [Path(a) for a in arguments] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        print("error: no notebooks found in notebooks/", file=sys.stderr)
        return 1
    failed = 0
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        started = time.monotonic()
        try:
            client.execute()
        except CellExecutionError as error:
            failed += 1
            print(f"FAIL {path.name}\n{error}", file=sys.stderr)
            continue
        skipped = wrote = False
        for cell in notebook.cells:
            for output in cell.get("outputs", []):
                text = output.get("text", "")
                for line in text.splitlines():
                    if line.startswith(("SKIP", "wrote")):
                        print(f"  {path.stem}: {line}")
                        skipped |= line.startswith("SKIP")
                        wrote |= line.startswith("wrote")
        if check_drawing and (skipped or not wrote):
            failed += 1
            print(f"FAIL {path.name}: it skipped a figure although its input exists", file=sys.stderr)
            continue
        print(f"ok   {path.name} ({time.monotonic() - started:.1f} s)")
    print(f"notebooks: {len(notebooks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
