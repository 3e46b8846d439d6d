"""gg.widgets.StepThrough in a real Jupyter kernel: a notebook that makes one runs without an error (nbclient),
its output is a widget view, and the widget's state saved in the notebook carries the front end and the steps."""

from __future__ import annotations

import pytest

nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")
pytest.importorskip("anywidget", reason="the dev extra installs anywidget")
from glassgrad.widgets.stepthrough import BUNDLE  # noqa: E402

CELLS = [
    "import glassgrad as gg\n"
    "gg.manual_seed(0)\n"
    "model = gg.nn.Sequential(gg.nn.Linear(2, 3), gg.nn.ReLU(), gg.nn.Linear(3, 2))\n"
    "x, y = gg.tensor([0.5, -1.0]), gg.tensor([1.0, 0.0])",
    "widget = gg.widgets.StepThrough(model, x, y, loss='mse', lr=0.2)\nwidget",
    "from glassgrad.playground.display import shown\n"
    "eager = gg.nn.functional.mse_loss(model(gg.tensor([[0.5, -1.0]])), gg.tensor([[1.0, 0.0]]))\n"
    "print(widget.answer('/api/step', {'lr': 0.2, 'actions': 'f'})['loss']['text'], shown(float(eager.array), False))",
]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def test_a_notebook_makes_a_step_through_widget(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", store_widget_state=True,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    outputs = notebook.cells[1].outputs
    assert [output.output_type for output in outputs] == ["execute_result"], outputs
    model_id = outputs[0].data[WIDGET_VIEW]["model_id"]
    saved = notebook.metadata["widgets"][WIDGET_STATE]["state"][model_id]
    assert saved["model_module"] == "anywidget"
    state = saved["state"]
    assert state["_esm"] == BUNDLE.read_text(encoding="utf-8")  # the page's front end, bundled
    assert state["lr"] == 0.2 and state["actions"] == "" and ".step-grid" in state["_styles"]
    shown, eager = notebook.cells[2].outputs[0].text.split()
    assert shown == eager  # the kernel answers the widget's request: the loss after Forward is the model's
