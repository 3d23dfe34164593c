"""The errors a user can fix: the CLI prints their message as one line (exit code 2), never a traceback.

The ground floor of the package: it imports nothing, so every layer can raise these.
"""


class ConfigError(ValueError):
    """A configuration problem the user can fix; the message names the key, the value and what was expected."""


class DataError(Exception):
    """Bad or missing dataset input; the message names the file and the problem."""


class CheckpointError(DataError):
    """A checkpoint that is missing, unreadable, truncated or not ganaug's; the message names the file."""


USER_ERRORS = (ConfigError, DataError)  # what the CLI reports as one line with exit code 2
