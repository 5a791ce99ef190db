"""``gdl data fetch NAME`` and ``gdl data verify [NAME]``: the data home from the command line."""
import os
import sys

from gdl.data.download import data_home, fetch, local_path, verify
from gdl.data.errors import DataError
from gdl.data.registry import DATASETS, resolve

_NAMES = ", ".join(list(DATASETS) + ["all"])


def add_data_commands(commands):
    """Add the ``data`` command (``fetch``, ``verify``) to the subparsers of ``gdl``."""
    data = commands.add_parser("data", help="fetch and verify the data sets in the data home",
                               description="The data home is $GDL_DATA_HOME, or "
                               "~/.cache/gdl when it is unset.")
    data.set_defaults(func=lambda args: _cmd_data_help(data))
    actions = data.add_subparsers(dest="data_command", metavar="ACTION")
    fetch_parser = actions.add_parser("fetch", help="download a data set into the data home",
                                      description="Download the files of a data set that are "
                                      "missing from the data home and check their SHA-256.")
    fetch_parser.add_argument("name", metavar="NAME", help=f"one of {_NAMES}, or one file "
                              "such as mnist/t10k-labels-idx1-ubyte.gz")
    fetch_parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    fetch_parser.set_defaults(func=_cmd_fetch)
    verify_parser = actions.add_parser("verify", help="check the data home against the "
                                       "known SHA-256s",
                                       description="Print ok, missing or BAD checksum for "
                                       "each file; exit 1 if any file is bad.")
    verify_parser.add_argument("name", metavar="NAME", nargs="?", default="all",
                               help=f"one of {_NAMES} (default), or one file")
    verify_parser.set_defaults(func=_cmd_verify)


def _cmd_data_help(parser):
    parser.print_help()
    return 0


def _cmd_fetch(args):
    try:
        relpaths = resolve(args.name)
    except DataError as error:
        return _fail(error)
    failures = 0
    for relpath in relpaths:
        present = os.path.isfile(local_path(relpath))
        try:
            path = fetch(relpath, progress=not args.quiet)
        except KeyboardInterrupt:
            print("gdl: interrupted; nothing partial was kept", file=sys.stderr)
            return 130
        except (DataError, OSError) as error:
            _fail(error)
            failures += 1
            continue
        print(f"{'present' if present else 'fetched'}  {path}")
    return 1 if failures else 0


def _cmd_verify(args):
    try:
        report = verify(args.name)
    except (DataError, OSError) as error:
        return _fail(error)
    counts = {"ok": 0, "missing": 0, "bad": 0}
    for check in report:
        counts[check.status] += 1
        if check.status == "bad":
            print(f"BAD checksum  {check.relpath}  (expected {check.expected}, "
                  f"got {check.actual})")
        else:
            print(f"{check.status:<12}  {check.relpath}")
    print(f"{len(report)} files in {data_home()}: {counts['ok']} ok, {counts['missing']} "
          f"missing, {counts['bad']} bad")
    return 1 if counts["bad"] else 0


def _fail(error):
    print(f"gdl: error: {error}", file=sys.stderr)
    return 1
