"""Time gdl, hand-written NumPy and PyTorch on the same training steps (see README.md).

    python benchmarks/run.py [--only W..] [--json FILE] [--repeats N] [--quick] [--threads N]

The workloads, the timing harness and the table live in the installed package (gdl.bench, also
``gdl bench``); this script sets the thread variables before numpy is imported, then runs it.
"""
import sys

from _threads import set_threads

if __name__ == "__main__":
    set_threads(sys.argv[1:])
    from gdl.bench import main     # imports numpy, now with the thread count set
    sys.exit(main())
