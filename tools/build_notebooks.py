"""Write the lesson notebooks (glassgrad/notebooks/*.ipynb) from the cells listed here.

Run ``python tools/build_notebooks.py`` after editing a lesson; tests/test_notebooks.py checks that the
committed notebooks are what this script writes, then executes every one. Each notebook follows one
chapter of the course (glassgrad/course/chapters). An exercise is a code cell that starts with the line
``answer = ...`` and ends with ``check(answer, <the engine's number>)``; its cell metadata names it
(``{"glassgrad": {"exercise": "<id>"}}``) so the test can fill in an answer.

Needs nbformat (the dev extra).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

FOLDER = Path(__file__).resolve().parent.parent / "glassgrad" / "notebooks"
SETUP = "import glassgrad as gg\nfrom glassgrad.course import check"
ANSWER_LINE = "answer = ...  # type your answer here, then run the cell"


def exercise(key: str, question: str, code: str) -> list[tuple[str, str, str | None]]:
    """A question (Markdown) and its cell: the learner's answer line, the code, and the check."""
    return [("markdown", f"**Exercise.** {question}", None), ("code", f"{ANSWER_LINE}\n{code}", key)]


def md(text: str) -> tuple[str, str, None]:
    return ("markdown", text, None)


def code(text: str) -> tuple[str, str, None]:
    return ("code", text, None)


NOTEBOOKS: dict[str, tuple[str, list]] = {
    "01-gradient": ("A gradient by hand and by backward()", [
        md("A gradient answers one question: if this weight moved up a little, would the loss go up or down, "
           "and how fast? We take the loss L(w) = (w − 3)², whose lowest point is at w = 3. By hand, "
           "∂L/∂w = 2·(w − 3)."),
        code(SETUP),
        md("glassgrad works it out for us: make `w` a tensor that requires a gradient, compute the loss, call "
           "`backward()`, and read `w.grad`."),
        code("w = gg.tensor(1.0, dtype=gg.float64, requires_grad=True)\nloss = (w - 3) ** 2\nloss.backward()\n"
             "print('by backward():', w.grad.item(), '   by hand: 2·(w − 3) =', 2 * (1.0 - 3))"),
        md("The slope is negative: raising w lowers the loss. Left of the valley the slope is negative, right "
           "of it positive, at the bottom zero."),
        *exercise("slope-at-4.5", "Work out ∂L/∂w at w = 4.5 by hand, type it, run the cell.",
                  "w = gg.tensor(4.5, dtype=gg.float64, requires_grad=True)\n((w - 3) ** 2).backward()\n"
                  "check(answer, w.grad)"),
        *exercise("cubic-slope", "Now L(w) = w³ - 2w. What is its slope at w = 2?",
                  "w = gg.tensor(2.0, dtype=gg.float64, requires_grad=True)\n(w ** 3 - 2 * w).backward()\n"
                  "check(answer, w.grad)"),
    ]),
    "02-gradient-descent": ("Gradient descent: the update rule", [
        md("To lower the loss, step against the slope: w ← w − η·∂L/∂w, "
           "with a learning rate η. Here is that rule written out, five times, on L(w) = (w − 3)² from "
           "w = 0 with η = 0.1."),
        code(SETUP),
        code("w = gg.tensor(0.0, dtype=gg.float64, requires_grad=True)\nfor step in range(5):\n"
             "    loss = (w - 3) ** 2\n    loss.backward()\n    print(f'step {step}: w = {w.item():.4f}, "
             "L = {loss.item():.4f}, slope = {w.grad.item():+.4f}')\n"
             "    with gg.no_grad():\n        w -= 0.1 * w.grad\n    w.grad = None"),
        md("`gg.no_grad()` keeps the update itself out of the graph, and `w.grad = None` clears the gradient "
           "before the next `backward()` (gradients add up otherwise: chapter 9)."),
        *exercise("one-step", "From w = 0 with η = 0.1, where is w after one step?",
                  "w = gg.tensor(0.0, dtype=gg.float64, requires_grad=True)\n((w - 3) ** 2).backward()\n"
                  "check(answer, w - 0.1 * w.grad)"),
        *exercise("two-steps", "And after two steps?",
                  "w = 0.0\nfor _ in range(2):\n    weight = gg.tensor(w, dtype=gg.float64, requires_grad=True)\n"
                  "    ((weight - 3) ** 2).backward()\n    w = w - 0.1 * weight.grad.item()\ncheck(answer, w)"),
    ]),
    "03-learning-rate": ("Learning rates: too small, right, too large", [
        md("The same rule with different η behaves very differently. On L(w) = (w − 3)² one step turns "
           "the gap w - 3 into (1 − 2η)·(w − 3): a tiny η barely moves, η = 0.5 lands in one "
           "step, and η > 1 makes every step overshoot further than the last."),
        code(SETUP),
        code("def descend(rate, steps=10, start=0.0):\n    path = [start]\n    for _ in range(steps):\n"
             "        w = gg.tensor(path[-1], dtype=gg.float64, requires_grad=True)\n"
             "        ((w - 3) ** 2).backward()\n        path.append(path[-1] - rate * w.grad.item())\n"
             "    return path\n\nfor rate in (0.001, 0.1, 0.5, 1.1):\n"
             "    print(f'η = {rate:<5}', ' '.join(f'{w:8.3f}' for w in descend(rate)[:7]))"),
        *exercise("rate-one", "With η = 1 from w = 0, where is w after one step?",
                  "check(answer, descend(1.0, steps=1)[-1])"),
        *exercise("gap-factor", "With η = 1.1, by what factor does the distance |w - 3| grow each step?",
                  "path = descend(1.1, steps=2)\ncheck(answer, abs(path[2] - 3) / abs(path[1] - 3))"),
    ]),
    "04-chain-rule": ("The chain rule, one factor at a time", [
        md("A network is functions inside functions. For z = w·x, a = ReLU(z), L = (a - t)² the "
           "chain rule multiplies the local slopes: ∂L/∂w = ∂L/∂a · "
           "∂a/∂z · ∂z/∂w = 2·(a − t) · ReLU′(z) · x."),
        code(SETUP),
        code("x, t = 2.0, 1.0\nw = gg.tensor(1.5, dtype=gg.float64, requires_grad=True)\nz = w * x\na = z.relu()\n"
             "loss = (a - t) ** 2\nloss.backward()\nfactors = [2 * (a.item() - t), float(z.item() > 0), x]\n"
             "print('factors:', factors, ' product:', factors[0] * factors[1] * factors[2], "
             "' backward():', w.grad.item())"),
        *exercise("chain-product", "Same chain with w = 1, x = 3, t = 1: what is ∂L/∂w?",
                  "w = gg.tensor(1.0, dtype=gg.float64, requires_grad=True)\nloss = ((w * 3.0).relu() - 1.0) ** 2\n"
                  "loss.backward()\ncheck(answer, w.grad)"),
        *exercise("chain-off", "And with w = -1 (so z < 0)? Think about the middle factor.",
                  "w = gg.tensor(-1.0, dtype=gg.float64, requires_grad=True)\nloss = ((w * 3.0).relu() - 1.0) ** 2\n"
                  "loss.backward()\ncheck(answer, w.grad)"),
    ]),
    "05-diagonal-flip": ("The diagonal flip, traced", [
        md("The course's small network maps x = [1, 0, 1, 1] to y = [1, 1, 0, 1] through 4 → 3 → 4 units "
           "with a ReLU in between (31 parameters). `gg.trace()` records every number of one forward and "
           "backward pass; showing the tape draws the whole account, layer by layer."),
        code(SETUP + "\nfrom glassgrad.lessons.diagonal_flip import lesson_model, sample"),
        code("model = lesson_model()\nx, y = sample()\nmodel"),
        code("with gg.trace(model) as tape:\n    prediction = model(x)\n"
             "    loss = gg.nn.functional.mse_loss(prediction, y)\n    loss.backward()\ntape"),
        md("The mean squared error over 4 outputs is L = ¼ Σᵢ (ŷᵢ - yᵢ)², so "
           "∂L/∂ŷᵢ = (2/4)·(ŷᵢ - yᵢ). Counting from 1 as the lessons do:"),
        code("prediction"),
        *exercise("first-output-gradient", "What is ∂L/∂ŷ₁ (the first output)?",
                  "check(answer, model[2].bias.grad[0])"),
        *exercise("w2-entry", "Then ∂L/∂W₂[1,1] = ∂L/∂ŷ₁ · A₁[1], "
                  "with A₁ = [0.5, 0, 0.2]. What is it?", "check(answer, model[2].weight.grad[0, 0])"),
        md("Practice problems come from glassgrad's generator; the check below grades against its number."),
        code("problem = gg.practice.generate('relu-backward', seed=506)\nproblem"),
        *exercise("practice-relu", "Fill in the blank of the problem above.", "check(answer, problem)"),
        md("The playground's step-through, here, for this model (or any stack of `nn.Linear` layers and "
           "activations of yours): press Forward, then Backward once per layer, then Update; click any number "
           "for its formula with the engine's numbers plugged in. It steps through a copy: `model` stays as it is."),
        code("gg.widgets.StepThrough(model, x, y, loss='mse', lr=0.1)"),
    ]),
    "06-numerical-gradients": ("Numerical gradients against backprop", [
        md("Nudging a weight by ±ε and measuring the change of the loss estimates its gradient: "
           "∂L/∂w ≈ (L(w + ε) − L(w − ε)) / 2ε. It "
           "needs two forward passes per weight; backprop gets all of them from one forward and one backward "
           "pass. The estimate is still the best test of a backward rule."),
        code(SETUP + "\nfrom glassgrad.lessons.diagonal_flip import LESSON_WEIGHTS, loss_of_parameters"),
        code("def numerical_slope(f, w, eps):\n    return (f(w + eps) - f(w - eps)) / (2 * eps)\n\n"
             "def cube(w):\n    return w ** 3\n\n"
             "w = gg.tensor(1.0, dtype=gg.float64, requires_grad=True)\ncube(w).backward()\n"
             "for eps in (0.1, 0.01, 1e-6):\n"
             "    print(f'ε = {eps:<6} numerical {numerical_slope(cube, 1.0, eps):.10f}   backward {w.grad.item()}')"),
        code("parameters = [gg.tensor(v, dtype=gg.float64, requires_grad=True) for v in LESSON_WEIGHTS.values()]\n"
             "report = gg.gradcheck(loss_of_parameters, parameters)\nreport"),
        *exercise("passes", "How many forward passes did the numerical check of the 31 parameters need?",
                  "check(answer, report.forward_passes)"),
        *exercise("eps-estimate", "With ε = 0.1, what does the numerical estimate give for the slope "
                  "of w³ at w = 1? (exact: it is 3 + ε²)", "check(answer, numerical_slope(cube, "
                  "1.0, 0.1))"),
    ]),
    "07-softmax-cross-entropy": ("Softmax, cross-entropy and ŷ − y", [
        md("A classifier turns scores z into probabilities ŷ = softmax(z) and pays "
           "L = −log ŷ[c], with c the right class. The gradient with respect to the scores is "
           "strikingly simple: ∂L/∂z = ŷ − y, with y the one-hot target."),
        code(SETUP),
        code("scores = gg.tensor([[1.0, 2.0, 0.5]], dtype=gg.float64, requires_grad=True)\n"
             "loss = gg.nn.functional.cross_entropy(scores, gg.tensor([1]))\nloss.backward()\n"
             "probabilities = scores.detach().softmax(-1)\none_hot = gg.tensor([[0.0, 1.0, 0.0]], dtype=gg.float64)\n"
             "print('ŷ − y     ', probabilities - one_hot)\nprint('backward()', scores.grad)"),
        *exercise("right-class", "What is ∂L/∂z₂ for the right class (2nd)? Three decimals are "
                  "enough.", "check(answer, scores.grad[0, 1], tolerance=0.001)"),
        *exercise("sum-zero", "What do the three entries of ∂L/∂z add up to?",
                  "check(answer, scores.grad.sum())"),
    ]),
    "08-linear-regression": ("Fitting a line with batch gradient descent", [
        md("A line h(x) = w₀ + w₁·x fitted to points by L = ½ Σᵢ (yᵢ - h(xᵢ))². The "
           "gradients are sums over the batch: ∂L/∂w₀ = -Σᵢ (yᵢ - h(xᵢ)) and "
           "∂L/∂w₁ = -Σᵢ (yᵢ - h(xᵢ))·xᵢ."),
        code(SETUP),
        code("x = gg.tensor([1.0, 2.0, 3.0], dtype=gg.float64)\ny = gg.tensor([2.0, 4.0, 6.0], dtype=gg.float64)\n"
             "w0 = gg.tensor(0.0, dtype=gg.float64, requires_grad=True)\n"
             "w1 = gg.tensor(0.0, dtype=gg.float64, requires_grad=True)\n"
             "loss = 0.5 * ((y - (w0 + w1 * x)) ** 2).sum()\nloss.backward()\nprint(w0.grad, w1.grad)"),
        *exercise("w0-gradient", "At w₀ = w₁ = 0, what is ∂L/∂w₀?", "check(answer, w0.grad)"),
        *exercise("w1-gradient", "And ∂L/∂w₁?", "check(answer, w1.grad)"),
        md("`gg.fit` runs the loop for a model; the history it returns draws its loss curve."),
        code("model = gg.nn.Linear(1, 1, dtype=gg.float64)\n"
             "data = gg.data.DataLoader(gg.data.TensorDataset(x.reshape(3, 1), y.reshape(3, 1)), batch_size=3)\n"
             "history = gg.fit(model, gg.nn.MSELoss(), gg.optim.SGD(model.parameters(), lr=0.05), data, epochs=40)\n"
             "history"),
    ]),
    "09-optimizers": ("An optimizer from scratch, then gg.optim", [
        md("An optimizer is the update rule kept in an object. SGD with momentum keeps a velocity: "
           "v ← μ·v + g, w ← w − η·v. Written by hand it is four lines; "
           "`gg.optim.SGD(..., momentum=μ)` must give the same numbers."),
        code(SETUP),
        code("def loss_of(w):\n    return ((w - 3) ** 2).sum()\n\n"
             "w_mine = gg.tensor([0.0], dtype=gg.float64, requires_grad=True)\nvelocity = 0.0\n"
             "for _ in range(3):\n    w_mine.grad = None\n    loss_of(w_mine).backward()\n"
             "    velocity = 0.9 * velocity + w_mine.grad.item()\n    with gg.no_grad():\n"
             "        w_mine -= 0.1 * velocity\n\n"
             "w_library = gg.tensor([0.0], dtype=gg.float64, requires_grad=True)\n"
             "optimizer = gg.optim.SGD([w_library], lr=0.1, momentum=0.9)\nfor _ in range(3):\n"
             "    optimizer.zero_grad()\n    loss_of(w_library).backward()\n    optimizer.step()\n"
             "print('by hand:', w_mine.item(), '  gg.optim.SGD:', w_library.item())"),
        md("`zero_grad()` matters because `backward()` *adds* to `.grad`:"),
        code("w = gg.tensor(2.0, dtype=gg.float64, requires_grad=True)\n((w - 3) ** 2).backward()\n"
             "((w - 3) ** 2).backward()\nw.grad"),
        *exercise("accumulated", "Without clearing, what is `w.grad` after three `backward()` calls at w = 2?",
                  "w = gg.tensor(2.0, dtype=gg.float64, requires_grad=True)\nfor _ in range(3):\n"
                  "    ((w - 3) ** 2).backward()\ncheck(answer, w.grad)"),
        *exercise("momentum-two", "With μ = 0.9, η = 0.1 and a gradient of 1 at every step, where is "
                  "w after two steps from 0?", "w = gg.tensor([0.0], dtype=gg.float64, requires_grad=True)\n"
                  "optimizer = gg.optim.SGD([w], lr=0.1, momentum=0.9)\nfor _ in range(2):\n"
                  "    optimizer.zero_grad()\n    w.sum().backward()\n    optimizer.step()\ncheck(answer, w)"),
    ]),
    "10-vanishing-exploding": ("Vanishing and exploding gradients", [
        md("Each layer multiplies the gradient passing back through it by its local slope. A sigmoid's slope "
           "is at most σ′(0) = 0.25, so ten sigmoids in a row shrink it by at least 0.25¹⁰; "
           "factors above 1 make it explode instead."),
        code(SETUP),
        code("for depth in (1, 2, 5, 10):\n    x = gg.tensor(0.0, dtype=gg.float64, requires_grad=True)\n"
             "    out = x\n    for _ in range(depth):\n        out = out.sigmoid()\n    out.backward()\n"
             "    print(f'{depth:2} sigmoids: ∂out/∂x = {x.grad.item():.3e}')"),
        *exercise("sigmoid-slope", "What is σ′(0)?",
                  "x = gg.tensor(0.0, dtype=gg.float64, requires_grad=True)\nx.sigmoid().backward()\n"
                  "check(answer, x.grad)"),
        md("Clipping rescales a gradient whose norm is too large, keeping its direction."),
        *exercise("clipped", "After `clip_grad_norm_` with `max_norm=1`, what is the first entry of the gradient "
                  "[3, 4]? Three decimals are enough (the clip divides by the norm plus a tiny 1e-6).",
                  "w = gg.tensor([3.0, 4.0], dtype=gg.float64, requires_grad=True)\n"
                  "(w * w / 2).sum().backward()\ngg.nn.utils.clip_grad_norm_([w], max_norm=1.0)\n"
                  "check(answer, w.grad[0], tolerance=0.001)"),
    ]),
    "11-fine-tuning": ("Fine-tuning: start from trained weights", [
        md("Fine-tuning starts from weights that already work and trains only part of them. Turning "
           "`requires_grad` off *freezes* a parameter: backward leaves its `.grad` empty and the optimizer "
           "skips it."),
        code(SETUP),
        code("model = gg.nn.mlp([2, 3, 1], seed=1).to(gg.float64)\nfor parameter in model[0].parameters():\n"
             "    parameter.requires_grad_(False)\nmodel"),
        code("inputs = gg.tensor([[1.0, 2.0], [0.5, -1.0], [-1.0, 1.0]], dtype=gg.float64)\n"
             "targets = gg.tensor([[1.0], [0.0], [0.5]], dtype=gg.float64)\nbefore = model[0].weight.numpy().copy()\n"
             "optimizer = gg.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05)\n"
             "for _ in range(20):\n    optimizer.zero_grad()\n"
             "    loss = gg.nn.functional.mse_loss(model(inputs), targets)\n    loss.backward()\n"
             "    optimizer.step()\nprint('first layer grad:', model[0].weight.grad, '  final loss:', loss.item())"),
        *exercise("trainable", "How many parameters are still trained (the last layer: 3 weights and a bias)?",
                  "check(answer, sum(p.numel() for p in model.parameters() if p.requires_grad))"),
        *exercise("frozen-change", "By how much did the largest frozen weight change?",
                  "check(answer, abs(model[0].weight.numpy() - before).max())"),
    ]),
}


def build(folder: Path = FOLDER) -> list[Path]:
    """Write every notebook into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (title, cells) in NOTEBOOKS.items():
        notebook = nbformat.v4.new_notebook()
        notebook.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                             "language_info": {"name": "python"}}
        made = [nbformat.v4.new_markdown_cell(f"# {title}\n\nglassgrad lesson notebook, chapter {int(name[:2])}.")]
        for kind, source, key in cells:
            cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
            if key:
                cell.metadata["glassgrad"] = {"exercise": key}
            made.append(cell)
        for number, cell in enumerate(made):
            cell.id = f"{name[:2]}-{number:02d}"
        notebook.cells = made
        nbformat.validate(notebook)
        path = folder / f"{name}.ipynb"
        path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER
    for path in build(target):
        print(path)
