"""CLI command groups, one module per area; each has ``register(app)``.

Keep imports at the top of these modules light: load NumPy-heavy or plotting code
inside the command functions.
"""

COMMAND_MODULES = ["engine", "train", "serve", "practice", "glassbox"]


class CommandError(Exception):
    """A problem with what the user asked for: reported in one line, exit code 2."""
