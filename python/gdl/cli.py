"""The ``gdl`` command line."""
import argparse
import sys


def _cmd_info(args):
    from gdl.info import format_info, info
    print(format_info(info()))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="gdl", description="Grokking Deep Learning on a fast compiled CPU engine.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    info = commands.add_parser("info", help="version, compiled kernels, BLAS and threads")
    info.set_defaults(func=_cmd_info)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
