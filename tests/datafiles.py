"""Where the tests find the real data files, shared by test_data.py and test_download.py."""
import os
import socket

import pytest

DATA_HOME = os.environ.get("GDL_DATA_HOME")         # read once: tests point it elsewhere


def data_file(relpath):
    """The path of relpath in $GDL_DATA_HOME; skip (or fail with GDL_REQUIRE_DATA=1) without it."""
    home = DATA_HOME
    if home:
        path = os.path.join(home, *relpath.split("/"))
        if os.path.isfile(path):
            return path
    reason = f"{relpath} is not in GDL_DATA_HOME ({home or 'unset'})"
    if os.environ.get("GDL_REQUIRE_DATA") == "1":
        pytest.fail(reason + " and GDL_REQUIRE_DATA=1")
    pytest.skip(reason)


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
