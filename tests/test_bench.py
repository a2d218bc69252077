"""The speed benchmark runs, and reports what it timed."""

import pytest
import torch

from course_utils import bench


def test_run_case_times_both_loops_in_rounds(mirror):
    r = bench.run_case("MNIST CNN", steps=4, device=torch.device("cpu"), warmup=2, rounds=3)
    assert r["rounds"] == 3 and r["steps"] == 4 and r["batch"] == 64
    assert r["plain_ips"] > 0 and r["fast_ips"] > 0
    assert r["ratio"] == pytest.approx(r["fast_ips"] / r["plain_ips"])
    assert 0 < r["ratio_low"] <= r["ratio_high"]
    assert r["data_source"]


@pytest.mark.parametrize("flag", ["--steps", "--rounds"])
def test_main_refuses_zero(flag, capsys):
    with pytest.raises(SystemExit) as stop:
        bench.main([flag, "0"])
    assert stop.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_breakdown_times_every_phase_of_both_paths(mirror):
    ms = bench.breakdown_case("MNIST CNN", steps=4, device=torch.device("cpu"), warmup=2, rounds=3)
    assert set(ms) == {"plain", "fast"}
    for path in ms.values():
        assert set(path) == set(bench.PHASES) and all(v > 0 for v in path.values())
    # Measured at 300 steps: 2.99 ms a batch for the per-image transforms against 0.10 ms for
    # the tensor path; a 30-fold gap leaves room for a noisy 4-step run, and the median of three
    # rounds for one stall of a busy machine (one round once gave 7.5 ms against 29.6 ms in a
    # parallel test run).
    assert ms["plain"]["data"] > ms["fast"]["data"]
