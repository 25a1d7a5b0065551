"""Errors that mean "the input is wrong", as opposed to bugs.

The CLI prints the message of any DigitrecError on one line and exits non-zero; the web layer
turns it into a 4xx. They subclass ValueError because that is what they are: bad values.
"""


class DigitrecError(ValueError):
    """Input the user can fix: the message names the problem in one line."""


class DataError(DigitrecError):
    """A data set file or folder is missing, corrupt or malformed."""


class ModelFileError(DigitrecError):
    """A model file or checkpoint is missing, corrupt, tampered or does not fit its metadata."""


class ImageError(DigitrecError):
    """An image cannot be decoded, is empty, too large or of an unsupported kind."""
