"""One training step of a worked example, recorded: forward, loss, backward, update, then the new loss."""

from __future__ import annotations

from typing import Any

from ..autograd import no_grad
from ..trace import trace


def traced_step(model: Any, loss_fn: Any, inputs: Any, targets: Any, optimizer: Any) -> tuple[Any, Any, Any, float]:
    """One training step under a tape: forward, loss, backward, update; then the loss after the update.

    Returns ``(tape, output, loss, new_loss)``; the tape watches ``model`` and calls the inputs ``X``.
    """
    with trace(model) as tape:
        tape.name(inputs, "X")
        output = model(inputs)
        loss = loss_fn(output, targets)
        loss.backward()
        optimizer.step()
    with no_grad():
        new_loss = loss_fn(model(inputs), targets).item()
    return tape, output, loss, new_loss
