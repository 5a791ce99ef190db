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


# Note [settle between contestants]: PyTorch's OpenMP (libgomp) keeps its worker threads
# spinning after each parallel region (GOMP_SPINCOUNT, 300,000 pause instructions: about 10 ms
# here), and OpenBLAS, gdl's teams and numpy have their own waits. A contestant timed right
# after another one shares the cores with those spinning threads: on 2 cores gdl's chapter-14
# step took 46-48 ms alone and 54-57 ms right after a torch step (torch 49 alone, 51-52 right
# after gdl). Scripts that interleave contestants step by step sleep this long before each
# timed step, so that every contestant starts on quiet cores and keeps its own spinning.
SETTLE = 0.05
