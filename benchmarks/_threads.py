"""The thread count of a benchmark script: read --threads from the command line and set every
thread variable, before numpy, torch or gdl is imported (their thread pools read them once).

The same variables as ``gdl.bench.THREAD_VARIABLES``, which cannot be imported this early.
"""
import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "GDL_NUM_THREADS")


def set_threads(argv, default="2"):
    """The value of --threads in argv (default ``default``), set in every thread variable."""
    threads = str(default)
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            threads = argv[i + 1]
        elif arg.startswith("--threads="):
            threads = arg.split("=", 1)[1]
    for name in THREAD_VARIABLES:
        os.environ[name] = threads
    return threads
