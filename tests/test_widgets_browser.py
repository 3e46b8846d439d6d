"""The StepThrough widget's front end in a real browser, talking to the real Python widget.

A small harness page on 127.0.0.1 loads the built bundle (static/build/stepthrough.js) as a notebook
would, with a stand-in for anywidget's ``model``: its ``send`` goes to the Python widget's own message
handler (through Playwright's ``expose_function``) and the reply comes back as a custom message. So
the page's markup, view and CSS run in the widget's shadow root against ``StepThrough``'s answers.
The numbers shown are checked against the model's forward and backward written out here in NumPy
(float64), and what a learner sees is checked at 1280×800 and 390×844 (visible, inside the viewport,
readable). Screenshots go to test-artifacts/screenshots/widget-*.png.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from browser import (
    SCREENSHOTS,
    VIEWPORTS,
    assert_no_sideways_scroll,
    assert_seen,
    chromium,
    offline_page,
    require_playwright,
)

import glassgrad as gg
from glassgrad.playground.display import operand

expect = require_playwright().expect
pytest.importorskip("anywidget", reason="the dev extra installs anywidget")
from glassgrad.widgets.stepthrough import BUNDLE, StepThrough  # noqa: E402

HARNESS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>StepThrough in a notebook cell (test harness)</title></head>
<body style="margin: 0; padding: 8px; font-family: sans-serif">
<p>In [1]: gg.widgets.StepThrough(model, x, y)</p>
<div id="cell"></div>
<script type="module" src="/harness.js"></script>
</body></html>
"""

# anywidget's model, as the widget uses it; send() → the Python widget's handler → a custom message back
HARNESS_JS = """
import widget from "/stepthrough.js";
const traits = await (await fetch("/traits.json")).json();
const listeners = new Set();
window.traits = traits;
window.leaked = [];
document.addEventListener("keydown", (event) => window.leaked.push(event.key));
const model = {
  get: (name) => traits[name],
  set: (name, value) => { traits[name] = value; },
  save_changes: () => {},
  on: (event, listener) => { if (event === "msg:custom") listeners.add(listener); },
  off: (event, listener) => listeners.delete(listener),
  send: (content) => {
    window.kernel(content).then((reply) => { for (const listener of listeners) listener(reply); });
  },
};
widget.render({ model, el: document.getElementById("cell") });
"""

LR = 0.5
X, Y = np.array([0.5, -1.0]), np.array([1.0, 0.0])


@pytest.fixture(scope="module")
def model():
    gg.manual_seed(11)
    return gg.nn.Sequential(gg.nn.Linear(2, 3), gg.nn.Tanh(), gg.nn.Linear(3, 2))


@pytest.fixture(scope="module")
def widget(model):
    return StepThrough(model, gg.tensor(X), gg.tensor(Y), loss="mse", lr=LR)


@pytest.fixture(scope="module")
def harness(widget):
    """The harness page, the bundle and the widget's synced state, served on 127.0.0.1."""
    traits = {key: value for key, value in widget.get_state().items()
              if key in ("_styles", "_counting", "_lr_rule", "lr", "actions")}
    files = {"/": (HARNESS, "text/html"), "/harness.js": (HARNESS_JS, "text/javascript"),
             "/stepthrough.js": (BUNDLE.read_text(encoding="utf-8"), "text/javascript"),
             "/traits.json": (json.dumps(traits), "application/json")}

    class Files(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body, kind = files.get(self.path, ("not here", "text/plain"))
            data = body.encode("utf-8")
            self.send_response(200 if self.path in files else 404)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def by_hand(model) -> dict:
    """Forward and backward of the model, written out in NumPy (float64): Z = W·x + b, A = tanh(Z), MSE."""
    w1, b1, w2, b2 = (np.asarray(p.array, dtype=np.float64) for p in model.parameters())
    z1 = w1 @ X + b1
    a1 = np.tanh(z1)
    z2 = w2 @ a1 + b2
    dz2 = 2 * (z2 - Y) / 2
    dz1 = (w2.T @ dz2) * (1 - a1**2)
    return {"Z1": z1, "A1": a1, "Z2": z2, "loss": np.mean((z2 - Y) ** 2), "dZ2": dz2, "dZ1": dz1,
            "dW2": np.outer(dz2, a1), "dW1": np.outer(dz1, X), "db1": dz1, "W1": w1, "W2": w2, "b1": b1}


def shown(page, name: str, shape: tuple) -> np.ndarray:
    """The numbers the widget shows for a matrix (each cell's data-value: the engine's full value)."""
    cells = [page.locator(f'#step-matrices [data-cell="{name}[{",".join(map(str, i))}]"]') for i in np.ndindex(*shape)]
    return np.array([float(cell.get_attribute("data-value")) for cell in cells]).reshape(shape)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_widget_steps_through_the_learners_model_in_a_browser(browser, harness, widget, model, size):
    expected = by_hand(model)
    with offline_page(browser, VIEWPORTS[size]) as page:
        page.expose_function("kernel", lambda content: ask_python(widget, content))
        page.goto(harness)
        page.wait_for_selector('#step-matrices [data-cell="W1[0,0]"]')
        np.testing.assert_allclose(shown(page, "W1", (3, 2)), expected["W1"], rtol=1e-6)
        assert page.locator("#step-title").inner_text() == "Your network"
        assert page.locator("#step-loss-value").inner_text() == "?"

        page.locator("#btn-forward").click()
        page.wait_for_selector('#step-matrices [data-cell="Z2[1]"]')
        for name in ("Z1", "A1", "Z2"):
            np.testing.assert_allclose(shown(page, name, expected[name].shape), expected[name], rtol=1e-5, atol=1e-7)
        assert float(page.locator("#step-loss-value").inner_text()) == pytest.approx(expected["loss"], abs=5e-5)
        # the columns of the diagram: the output is named ŷ once (not "ŷ = ŷ")
        assert page.locator("#diagram .column-label").all_text_contents() == ["X", "A₁ (tanh)", "ŷ"]

        page.locator("#btn-backward").click()
        page.wait_for_selector('#step-matrices [data-cell="dW2[1,0]"]')
        page.locator("#btn-backward").click()
        page.wait_for_selector('#step-matrices [data-cell="dW1[2,1]"]')
        for name in ("dZ2", "dW2", "dZ1", "dW1", "db1"):
            np.testing.assert_allclose(shown(page, name, expected[name].shape), expected[name], rtol=1e-5, atol=1e-7)

        page.locator('#step-matrices [data-cell="dW2[1,0]"]').click()  # ∂L/∂W₂[2,1] = ∂L/∂ŷ[2] · A₁[1]
        text = page.locator("#explain-text")
        expect(text).to_contain_text("∂L/∂W₂[2,1] = ")
        assert float(text.get_attribute("data-value")) == pytest.approx(expected["dW2"][1, 0], rel=1e-5)
        plugged = f"{operand(expected['dZ2'][1])} · {operand(expected['A1'][0])}"
        assert plugged in text.inner_text(), (plugged, text.inner_text())
        for part, what in [("#btn-forward", "the Forward button"), ("#btn-update", "the Update button"),
                           ("#step-loss-value", "the loss"), ('#step-matrices [data-cell="dW1[0,0]"]', "a gradient"),
                           ("#explain-text", "the explanation"), (".diagram-box", "the diagram's box")]:
            assert_seen(page.locator(part), what)
        assert_no_sideways_scroll(page, f"the widget at {size}")
        text.scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"widget-explain-{size}.png"))

        page.locator("#btn-update").click()
        page.wait_for_function("document.querySelector('#cell').shadowRoot"
                               ".querySelector('#step-updates').textContent.includes('1 update')")
        updated = shown(page, "W1", (3, 2))
        np.testing.assert_allclose(updated, expected["W1"] - LR * expected["dW1"], rtol=1e-5, atol=1e-7)
        assert page.evaluate("window.traits.actions") == "f b b u"  # kept in the widget's state

        page.locator("#btn-forward").focus()
        page.keyboard.press("f")  # the widget's shortcut, and not the notebook's as well
        page.wait_for_selector('#step-matrices [data-cell="Z1[0]"]')
        assert page.evaluate("window.leaked") == []
        page.locator("#step-lr").fill("500")
        page.locator("#step-lr").press("Enter")
        page.locator("#step-lr").blur()
        error = page.locator("#step-lr-problem")  # said under the field: the kernel is not asked
        expect(error).to_contain_text("out of range")
        assert_seen(error, "the error")
        assert page.evaluate("window.traits.actions") == "f b b u f"  # the refused change changed nothing
        assert page.locator("#step-lr").input_value() == str(LR)  # and the refused η is not left in its field
        page.screenshot(path=str(SCREENSHOTS / f"widget-full-{size}.png"), full_page=True)


def ask_python(widget: StepThrough, content: dict) -> dict:
    """What the kernel does with the front end's message: the Python widget's handler, and its reply."""
    replies = []
    widget.send = lambda reply, buffers=None: replies.append(reply)
    widget._handle_custom_msg(content, [])
    return replies[0]

