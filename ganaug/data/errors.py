"""The one exception the data layer raises for bad or missing input."""


class DataError(Exception):
    """Bad or missing dataset input; the message names the file and the problem."""
