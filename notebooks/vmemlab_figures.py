"""Small helpers shared by the VMemLab notebooks: where results live, loading
a CSV only when it and the columns a figure needs exist, and saving figures."""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("VMEMLAB_RESULTS", ROOT / "results"))
FIGURES = Path(os.environ.get("VMEMLAB_FIGURES", RESULTS / "figures"))
REFERENCE = ROOT / "data" / "reference"


def load(name, columns=()):
    """The CSV results/<name> as a DataFrame, or None, after printing why a
    figure that needs it is skipped (missing file, or missing columns)."""
    path = RESULTS / name
    if not path.exists():
        print(f"SKIP: {path} does not exist yet; run the reproduction that writes it.")
        return None
    frame = pd.read_csv(path)
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        print(f"SKIP: {path} lacks the columns {missing}; it has {list(frame.columns)}.")
        return None
    if frame.empty:
        print(f"SKIP: {path} has no rows.")
        return None
    return frame


def first_column(frame, candidates):
    """The first of `candidates` that `frame` has, or None."""
    return next((column for column in candidates if column in frame.columns), None)


def save(figure, name):
    """Saves `figure` as results/figures/<name>.png and says where."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    path = FIGURES / f"{name}.png"
    figure.savefig(path, dpi=120, bbox_inches="tight")
    print(f"wrote {path}")
    return path


def provenance(frame):
    """One line on where the rows come from, from their metadata columns."""
    parts = []
    for column in ("host_cpu_name", "kvm_mode", "thp_mode", "vmemlab_revision", "run_started_utc"):
        if column in frame.columns:
            values = sorted(set(frame[column].dropna().astype(str)))
            parts.append(f"{column}={'/'.join(values[:2])}")
    return ", ".join(parts)
