"""Shared fixtures. Tests import only the installed gdl; python/ is never on sys.path."""
import os
import pathlib

# as `import gdl` sets it, before numpy loads its OpenBLAS: the suite then runs gdl's products on
# numpy's OpenBLAS, as a program that imports gdl first does (Note [numpy's BLAS])
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import numpy as np  # noqa: E402
import pytest


def pytest_report_header(config):
    import gdl
    return f"gdl {gdl.__version__} from {pathlib.Path(gdl.__file__).parent}"


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same seed, so a failure reproduces."""
    import gdl
    gdl.manual_seed(0)
    np.random.seed(0)


@pytest.fixture(scope="session")
def data_home():
    """The real data sets (GDL_DATA_HOME); skipped when absent unless GDL_REQUIRE_DATA=1."""
    home = os.environ.get("GDL_DATA_HOME")
    if home and pathlib.Path(home, "mnist").is_dir():
        return pathlib.Path(home)
    if os.environ.get("GDL_REQUIRE_DATA") == "1":
        pytest.fail(f"GDL_REQUIRE_DATA=1 but GDL_DATA_HOME={home!r} holds no data sets")
    pytest.skip("no data home: set GDL_DATA_HOME to a folder laid out like shared/data")
