"""The one exception type users see: a single line naming what was wrong and where."""


class BenchmarkError(Exception):
    """Bad input (config key, game, file). Its message is one line, shown without a traceback."""
