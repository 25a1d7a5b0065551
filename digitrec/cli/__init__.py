"""The `digitrec` command line: one thin module per subcommand, each mapping flags onto the
library. Only this package prints."""

from digitrec.cli.main import main

__all__ = ["main"]
