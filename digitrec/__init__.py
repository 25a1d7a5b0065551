"""digitrec: handwritten digit recognition you can train, compare and use on real photos."""

__version__ = "0.1.0"
