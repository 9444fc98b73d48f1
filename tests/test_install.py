"""A plain (not editable) install into a new virtual environment works as the README says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import venv
from decimal import Decimal
from pathlib import Path

import pytest

from tests.test_capacity import catalogue_figures, estimated_mw
from tracker.model.values import POWER_FACTOR

ROOT = Path(__file__).parent.parent


def readme_commands() -> list[str]:
    """The shell commands of the README's set-up section, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", setup, flags=re.S)


def test_the_readme_gives_one_command_to_run_and_one_to_test() -> None:
    run, test = readme_commands()
    assert "pip install ." in run
    assert run.endswith("tracker summary --region europe")
    assert test.endswith("pytest")
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_plain_install_runs_the_readmes_first_command(tmp_path: Path) -> None:
    # Install from a copy of the tracked files: a build in the checkout would reuse its build/.
    source = tmp_path / "source"
    source.mkdir()
    listing = ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    archive = subprocess.run(listing, check=True, capture_output=True).stdout
    for name in filter(None, archive.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
        check=True,
        capture_output=True,
    )
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    assert not (site / "db").exists()
    assert not (site / "seeds").exists()
    assert (site / "tracker" / "migrations" / "env.py").is_file()
    assert (site / "tracker" / "seeds" / "entries.csv").is_file()

    env = {key: value for key, value in os.environ.items() if not key.startswith(("TRACKER_", "PYTHON"))}
    env["TRACKER_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run(
        [environment / "bin" / "tracker", "summary", "--region", "europe"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    b300_tdp = int(catalogue_figures()[("NVIDIA", "B300")]["tdp_w"])
    assert lines[0] == ["country", "vendor", "entries", "chips", "h100e", "power_mw"]
    assert lines[2:6] == [
        ["(multi-country)", "NVIDIA", "1", "≥", "472,000"],
        ["FR", "NVIDIA", "2", "31,800", "80,344", "84.0"],  # the README's first table
        ["DE", "NVIDIA", "1", "10,000", "12.0"],
        ["GB", "NVIDIA", "1", "4,000", "9,096", f"{estimated_mw(4_000 * b300_tdp)}", "est."],
    ]
    # Reported: 40 + 44 MW in FR, 12 in DE; estimated: 4,000 B300 x TDP x the power factor
    total_mw = (40 + 44 + 12 + Decimal(4_000 * b300_tdp) * POWER_FACTOR / 1_000_000).quantize(Decimal("0.1"))
    assert lines[-1] == ["Total", "5", "≥", "517,800", "≥", "89,439", "≥", f"{total_mw}", "est."]
    assert (tmp_path / "data" / "tracker.db").is_file()
