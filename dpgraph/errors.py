"""User-facing errors: one line naming the problem and the fix; the CLI turns them into exit code 2."""


class DPGraphError(Exception):
    """An error caused by the user's input (config, data, budget). Its message is shown as is, without traceback."""
