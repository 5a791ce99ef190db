"""The benchmark runner runs a tiny workload and writes the JSON it promises (no timings are
checked: they are noise on a shared machine)."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

from gdl import bench, cli

RUNNER = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
RESULT_KEYS = {"status", "ms_median", "ms_q1", "ms_q3", "ms_min", "ms_max", "per_second",
               "peak_rss_mib", "repeats", "steps_per_repeat", "ms_repeats"}


def check_report(path, names):
    report = json.loads(pathlib.Path(path).read_text())
    assert set(report) >= {"schema", "settings", "machine", "sgemm", "workloads"}
    assert report["settings"]["threads"] == 2
    assert report["sgemm"]["gflops"] > 0
    assert [w["name"] for w in report["workloads"]] == names
    for workload in report["workloads"]:
        assert set(workload["results"]) == {"gdl", "numpy", "torch"}
        assert set(workload["ratios"]) == {"gdl/numpy", "gdl/torch"}
        assert set(workload["ratios_of_medians"]) == {"gdl/numpy", "gdl/torch"}
        for impl in ("gdl", "numpy"):
            result = workload["results"][impl]
            assert result["status"] == "ok", result
            assert set(result) >= RESULT_KEYS
            assert result["ms_q1"] <= result["ms_median"] <= result["ms_q3"]
            assert len(result["ms_repeats"]) == result["repeats"]
        assert workload["ratios"]["gdl/numpy"] > 0
        torch = workload["results"]["torch"]
        assert torch["status"] in ("ok", "unavailable", "skipped")
        assert (workload["ratios"]["gdl/torch"] is None) == (torch["status"] != "ok")
    return report


def test_ratios_pair_the_repeats_of_each_round():
    # a slow spell in round 2 hits both; gdl's third repeat is quick, the other's slow: the
    # rounds' own ratios are 0.5, 0.5, 0.05 (median 0.5), the medians' ratio 1 / 20
    ok = {"status": "ok"}
    results = {"gdl": dict(ok, ms_repeats=[1.0, 10.0, 1.0], ms_median=1.0),
               "numpy": dict(ok, ms_repeats=[2.0, 20.0, 20.0], ms_median=20.0),
               "torch": {"status": "unavailable"}}
    assert bench._ratio(results, "gdl", "numpy") == pytest.approx(0.5)
    assert bench._ratio_of_medians(results, "gdl", "numpy") == pytest.approx(0.05)
    assert bench._ratio(results, "gdl", "torch") is None


def test_gdl_bench_quick_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = cli.main(["bench", "--quick", "--only", "OP-add", "--impls", "gdl", "numpy",
                     "--repeats", "2", "--json", str(out)])
    assert code == 0
    report = check_report(out, ["OP-add"])
    assert report["workloads"][0]["results"]["torch"]["status"] == "skipped"


@pytest.mark.skipif(not RUNNER.exists(), reason="benchmarks/ is not next to the tests")
def test_runner_script_quick(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(RUNNER), "--quick", "--only", "OP-matmul",
                           "--impls", "gdl", "numpy", "--json", str(out)],
                          capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"})
    assert done.returncode == 0, done.stderr
    assert "OP-matmul" in done.stdout
    check_report(out, ["OP-matmul"])


def test_unknown_workload_is_a_usage_error():
    with pytest.raises(SystemExit):
        bench.main(["--only", "W99"])
