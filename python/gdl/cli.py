"""The ``gdl`` command line: ``list``, ``run``, ``data``, ``bench`` and ``info``."""
import argparse
import sys


def _cmd_info(args):
    from gdl.info import format_info, info
    print(format_info(info()))
    return 0


def _cmd_list(args):
    from gdl.book import ALIASES, PROJECTS
    aliases = {target: name for name, target in ALIASES.items()}
    for project in PROJECTS:
        alias = f" (also: {aliases[project.name]})" if project.name in aliases else ""
        print(f"ch{project.chapter:<3} {project.name:<18} {project.summary}{alias}")
        print(f"{'':23}reaches {project.reaches}")
    return 0


def _fail(message):
    print(f"gdl: error: {message}", file=sys.stderr)
    return 2


def _non_negative(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def _positive(text):
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _add_run_command(commands):
    run = commands.add_parser("run", help="train one of the book's projects (see gdl list)",
                              description="Train a project with a progress bar and print the "
                              "metrics the book reports. Projects may take more options: "
                              "gdl run PROJECT --help.", add_help=False)
    run.add_argument("project", metavar="PROJECT", nargs="?", help="a name from gdl list")
    run.add_argument("-h", "--help", action="store_true", help="show this help")
    run.add_argument("--epochs", type=_non_negative, help="passes over the training data")
    run.add_argument("--seed", type=int, default=0, help="seed of every random draw (0)")
    run.add_argument("--batch-size", type=_positive, help="examples per step")
    run.add_argument("--lr", type=_positive_float, help="learning rate (the book's alpha)")
    run.add_argument("--save", metavar="CKPT", help="write a checkpoint after every epoch")
    run.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint")
    run.add_argument("--plot", metavar="FILE.png", help="save the learning curves (needs "
                     "matplotlib: pip install 'gdl[plot]')")
    run.add_argument("--quiet", action="store_true", help="only the final summary line")
    run.set_defaults(func=_cmd_run)
    return run


def _cmd_run(args, extra=()):
    import inspect

    from gdl import book
    from gdl.book._common import UserError
    from gdl.data import DataError
    run_parser = args.run_parser
    if args.project is None:
        run_parser.print_help()
        return 0 if args.help else 2
    try:
        project = book.find(args.project)
    except KeyError:
        names = ", ".join([p.name for p in book.PROJECTS] + list(book.ALIASES))
        return _fail(f"unknown project {args.project!r}; the projects are: {names}")
    module = book.load(project.name)
    own = argparse.ArgumentParser(prog=f"gdl run {project.name}", parents=[run_parser],
                                  description=(module.__doc__ or "").split("\n\n")[0],
                                  add_help=False)
    if hasattr(module, "add_arguments"):
        module.add_arguments(own)
    if args.help:
        own.print_help()
        return 0
    options = vars(own.parse_args(list(extra), namespace=argparse.Namespace()))
    options.update({k: v for k, v in vars(args).items() if v is not None})
    accepted = inspect.signature(module.run).parameters
    kwargs = {k: v for k, v in options.items() if k in accepted and v is not None}
    try:
        metrics = module.run(**kwargs)
    except (UserError, DataError) as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted")
    summary = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in metrics.items())
    print(f"{project.name}: {summary}")
    return 0


def _add_data_commands(commands):
    from gdl.data.cli import add_data_commands
    add_data_commands(commands)


def _add_bench_command(commands):
    from gdl.bench import add_arguments
    bench = commands.add_parser("bench", help="time gdl against NumPy and PyTorch",
                                description="Time one training step of each workload in gdl, "
                                "hand-written NumPy and PyTorch (when installed); print a "
                                "table and optionally write JSON.")
    add_arguments(bench)
    bench.set_defaults(func=_cmd_bench)


def _cmd_bench(args):
    from gdl.bench import run_args
    return run_args(args)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="gdl", description="Grokking Deep Learning on a fast compiled CPU engine.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    listing = commands.add_parser("list", help="the book's projects by chapter")
    listing.set_defaults(func=_cmd_list)
    run = _add_run_command(commands)
    run.set_defaults(run_parser=run)
    _add_data_commands(commands)
    _add_bench_command(commands)
    info = commands.add_parser("info", help="version, compiled kernels, BLAS and threads")
    info.set_defaults(func=_cmd_info)
    return parser


def main(argv=None):
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "run":
        return args.func(args, extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
