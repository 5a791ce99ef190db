"""Time gdl, hand-written NumPy and PyTorch on the same training steps (see README.md).

    python benchmarks/run.py [--only W..] [--json FILE] [--repeats N] [--quick] [--threads N]

The workloads, the timing harness and the table live in the installed package (gdl.bench, also
``gdl bench``); this script sets the thread variables before numpy is imported, then runs it.
"""
import os
import sys


def _threads(argv, default=2):
    """The value of --threads in argv, read before argparse (and numpy) is loaded."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return str(default)


if __name__ == "__main__":
    threads = _threads(sys.argv[1:])
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GDL_NUM_THREADS"):
        os.environ[name] = threads
    from gdl.bench import main     # imports numpy, now with the thread count set
    sys.exit(main())
