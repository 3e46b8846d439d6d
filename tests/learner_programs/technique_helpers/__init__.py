"""What the technique programs (``tests/learner_programs/techniques/``) share, as a learner's own utils module."""

import warnings


def outcome(call):
    """A learner's ``try``/``except`` around ``call``: ``["ok", its value (numbers, or its type's name), the warnings'
    kinds]`` or ``[the exception's class name]``."""
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            value = call()
    except Exception as error:
        return [type(error).__name__]
    shown = value.tolist() if hasattr(value, "tolist") else value
    shown = shown if shown is None or isinstance(shown, (bool, int, float, str, list)) else type(value).__name__
    return ["ok", shown, [w.category.__name__ for w in seen]]
