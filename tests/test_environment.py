"""The pins agree everywhere, and the package metadata keeps lower bounds only (for Colab)."""

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    return dict(
        re.match(r"^\s*-?\s*([A-Za-z0-9_.\-]+)==(\S+)\s*$", line).groups()
        for line in lines
        if re.match(r"^\s*-?\s*[A-Za-z0-9_.\-]+==", line)
    )


def test_requirements_and_environment_yml_pin_the_same_versions():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    env = _pins((ROOT / "environment.yml").read_text().splitlines())
    assert req == env
    assert req["torch"] == "2.14.1" and req["torchvision"] == "0.29.1"
    for name in ("torchsummary", "matplotlib", "jupyter", "papermill", "nbval", "tqdm", "pytest"):
        assert name in req


def test_package_metadata_has_no_exact_pins():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = meta["dependencies"] + [d for extra in meta["optional-dependencies"].values() for d in extra]
    assert not [d for d in deps if "==" in d or "<" in d]
    assert "dev" in meta["optional-dependencies"]
