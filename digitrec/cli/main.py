"""Entry point: builds the parser from the subcommand modules and turns every failure into
one line on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from digitrec import __version__
from digitrec.errors import DigitrecError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
QUIET_HELP = "only print results and errors"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the problem and where to get help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from digitrec.cli import compare, ensemble, evaluate, export, models, predict, serve, train

    parser = OneLineParser(
        prog="digitrec",
        description="Handwritten digit recognition: train, compare and use digit classifiers.",
    )
    parser.add_argument("--version", action="version", version=f"digitrec {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    commands.required = True
    for module in (train, evaluate, predict, compare, ensemble, export, models, serve):
        module.add_parser(commands)
    for subparser in commands.choices.values():
        # Also accepted after the subcommand; SUPPRESS keeps it from resetting the global flag.
        subparser.add_argument(
            "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=QUIET_HELP
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Our own progress lines at INFO; other libraries only when something is wrong.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("digitrec").setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        return int(args.run(args) or 0)
    except DigitrecError as error:
        print(f"digitrec: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        hint = getattr(args, "interrupt_hint", None)
        print(f"digitrec: interrupted{f'; {hint}' if hint else ''}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print("digitrec: error: out of memory", file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:  # a bug, not bad input: still one line unless asked for more
        if os.environ.get("DIGITREC_DEBUG"):
            raise
        print(
            f"digitrec: internal error: {type(error).__name__}: {error} "
            "(set DIGITREC_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
