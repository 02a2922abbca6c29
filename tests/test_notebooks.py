"""Execute every notebook in ``notebooks/`` and fail on the first cell that raises.

Each notebook runs in a fresh ``python3`` kernel (nbclient) with its own folder
as the working directory and ``MPLBACKEND=Agg``, so figures are drawn but never
shown. The notebooks assert what they demonstrate, so this doubles as a
regression test of the behaviour they describe. A failure reports the
notebook, the failing cell's index and source, its output and the traceback.

Notebooks are stored without outputs; ``test_notebook_is_stored_clean`` keeps
it that way, so that diffs show only what changed in the source.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from nbclient.exceptions import CellExecutionError  # noqa: E402

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell
KERNEL_STARTUP_TIMEOUT = 120  # seconds
# IPython colours its tracebacks; the escapes are noise in a pytest report.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def _ids(path: Path) -> str:
    return path.name


def _read(path: Path):
    return nbformat.read(path, as_version=4)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel inherits this process's environment: no GUI backend.
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = _read(path)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        startup_timeout=KERNEL_STARTUP_TIMEOUT,
        resources={"metadata": {"path": str(path.parent)}},
    )
    failure = None
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                failure = (index, exc)
                break
    if failure is not None:
        index, exc = failure
        # str(exc) holds the cell's source, its stdout and the traceback
        pytest.fail(
            f"{path.name}: cell {index} raised {exc.ename}: {exc.evalue}\n"
            f"{ANSI_ESCAPE.sub('', str(exc))}",
            pytrace=False,
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_is_stored_clean(path: Path) -> None:
    nb = _read(path)
    nbformat.validate(nb)
    dirty = [
        index
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name}: code cells {dirty} have outputs or execution counts; "
        "store notebooks clean (e.g. `jupyter nbconvert --clear-output --inplace`)"
    )
