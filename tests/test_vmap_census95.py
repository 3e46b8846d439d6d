"""A census of ``gg.vmap`` over the library against PyTorch 2.13's ``torch.func.vmap``, in float64.

Beyond test_func_differential32.py's random chains: the functions of ``torch``, ``torch.nn.functional`` and
``torch.linalg`` that both libraries have, one by one under vmap with in_dims/out_dims 0 and 1/-1 and
``chunk_size``; in-place changes inside the mapped function (of a mapped argument: PyTorch changes the input; of a
tensor from outside: a counter, batch norm's running statistics); outputs whose shape or structure depends on the
items' values; and ensembles of batch-norm models through ``stack_module_state``.

Before the fixes, vmap called the function once per item and nobody noticed that state from outside was changed
once per item: a ``BatchNorm`` in training under vmap (or through ``functional_call`` with unmapped buffers)
updated its running statistics and ``num_batches_tracked`` once per item where PyTorch refuses, and a counter
``c.add_(1)`` in the function counted the items where PyTorch's one batched call adds 1. A boolean mask's outputs of
different lengths were refused with ValueError, PyTorch's is a RuntimeError.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = pytest.mark.torch


def _close(ours, theirs, rtol=1e-10, atol=1e-12):
    if isinstance(ours, (tuple, list)):
        assert isinstance(theirs, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _close(a, b, rtol, atol)
        return
    if isinstance(ours, dict):
        assert set(ours) == set(theirs)
        for key in ours:
            _close(ours[key], theirs[key], rtol, atol)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def _both(torch, make):
    """``make(m)`` run on glassgrad and on torch: the results, or the exceptions' classes."""
    out = []
    for m in (gg, torch):
        try:
            out.append(make(m))
        except Exception as error:  # noqa: BLE001 (the class is compared)
            out.append(type(error))
    return out


# --- the census: one op at a time -------------------------------------------------------------------------------

CENSUS = {  # name → (the op, written once for both libraries, the shapes of one item's arguments)
    "abs": (lambda m, x: m.abs(x), [(4, 3)]),
    "exp": (lambda m, x: m.exp(x), [(4, 3)]),
    "log1p_abs": (lambda m, x: m.log1p(x.abs()), [(4, 3)]),
    "erf": (lambda m, x: m.erf(x), [(4, 3)]),
    "atan2": (lambda m, x, y: m.atan2(x, y), [(4, 3), (4, 3)]),
    "pow": (lambda m, x, y: m.pow(x.abs() + 0.5, y), [(4, 3), (4, 3)]),
    "sum_keep": (lambda m, x: x.sum(dim=0, keepdim=True), [(4, 3)]),
    "mean_neg": (lambda m, x: x.mean(-1), [(4, 3)]),
    "var": (lambda m, x: x.var(0, correction=0), [(4, 3)]),
    "std_keep": (lambda m, x: x.std(-1, keepdim=True), [(4, 3)]),
    "amin": (lambda m, x: m.amin(x, dim=(0, 1)), [(4, 3)]),
    "logsumexp": (lambda m, x: m.logsumexp(x, 0), [(4, 3)]),
    "argmax": (lambda m, x: x.argmax(-1), [(4, 3)]),
    "max_dim": (lambda m, x: tuple(x.max(dim=0)), [(4, 3)]),
    "sort": (lambda m, x: tuple(m.sort(x, dim=-1, descending=True)), [(4, 3)]),
    "topk": (lambda m, x: tuple(m.topk(x, 2, dim=0)), [(4, 3)]),
    "cumsum": (lambda m, x: m.cumsum(x, 0), [(4, 3)]),
    "cumprod": (lambda m, x: x.cumprod(-1), [(4, 3)]),
    "view": (lambda m, x: x.contiguous().view(3, 4), [(4, 3)]),
    "reshape": (lambda m, x: x.reshape(-1), [(4, 3)]),
    "permute": (lambda m, x: x.permute(1, 0), [(4, 3)]),
    "transpose": (lambda m, x: x.transpose(0, 1), [(4, 3)]),
    "squeeze_unsqueeze": (lambda m, x: x.unsqueeze(1).squeeze(1), [(4, 3)]),
    "flatten": (lambda m, x: m.flatten(x), [(4, 3)]),
    "cat": (lambda m, x, y: m.cat([x, y], dim=-1), [(4, 3), (4, 3)]),
    "stack": (lambda m, x, y: m.stack([x, y], dim=1), [(4, 3), (4, 3)]),
    "split": (lambda m, x: x.split([1, 3], dim=0), [(4, 3)]),
    "chunk": (lambda m, x: x.chunk(2, dim=0), [(4, 3)]),
    "index_select": (lambda m, x: m.index_select(x, 0, m.tensor([3, 0, 0])), [(4, 3)]),
    "gather": (lambda m, x: m.gather(x, 1, m.tensor([[0], [2], [1], [1]])), [(4, 3)]),
    "narrow": (lambda m, x: x.narrow(0, 1, 2), [(4, 3)]),
    "expand": (lambda m, x: x[:1].expand(5, 3), [(4, 3)]),
    "repeat": (lambda m, x: x.repeat(2, 1), [(4, 3)]),
    "getitem": (lambda m, x: x[1:, [0, 2]], [(4, 3)]),
    "matmul": (lambda m, x, y: x @ y.T, [(4, 3), (4, 3)]),
    "einsum": (lambda m, x, y: m.einsum("ij,kj->ik", x, y), [(4, 3), (4, 3)]),
    "softmax": (lambda m, x: m.softmax(x, dim=0), [(4, 3)]),
    "log_softmax": (lambda m, x: m.nn.functional.log_softmax(x, dim=-1), [(4, 3)]),
    "layer_norm": (lambda m, x: m.nn.functional.layer_norm(x, (3,)), [(4, 3)]),
    "linear": (lambda m, x, w: m.nn.functional.linear(x, w), [(4, 3), (2, 3)]),
    "conv1d": (lambda m, x, w: m.nn.functional.conv1d(x.unsqueeze(0), w.unsqueeze(-1).expand(2, 4, 2)),
               [(4, 3), (2, 4)]),
    "conv2d": (lambda m, x, w: m.nn.functional.conv2d(x[None, None], w[:, :2].reshape(2, 1, 2, 2) if w.shape[1] > 3
                                                      else w[:, :1].reshape(1, 1, 2, 1)), [(4, 3), (2, 4)]),
    "mse_loss": (lambda m, x, y: m.nn.functional.mse_loss(x, y), [(4, 3), (4, 3)]),
    "cross_entropy": (lambda m, x, y: m.nn.functional.cross_entropy(x, y.softmax(-1)), [(4, 3), (4, 3)]),
    "norm": (lambda m, x: m.linalg.norm(x, dim=-1), [(4, 3)]),
    "matrix_norm": (lambda m, x: m.linalg.norm(x), [(4, 3)]),
    "solve": (lambda m, a, b: m.linalg.solve(a + 4 * m.eye(3, dtype=a.dtype), b), [(3, 3), (3, 2)]),
    "inv": (lambda m, a: m.linalg.inv(a + 4 * m.eye(3, dtype=a.dtype)), [(3, 3)]),
    "det": (lambda m, a: m.linalg.det(a), [(3, 3)]),
    "where": (lambda m, x: m.where(x > 0, x, 0.0), [(4, 3)]),
    "clamp": (lambda m, x: x.clamp(min=-0.3, max=0.4), [(4, 3)]),
    "masked_fill": (lambda m, x: x.masked_fill(x < 0, -1.0), [(4, 3)]),
    "dict_out": (lambda m, x: {"s": x.sum(), "t": x.T}, [(4, 3)]),
}


def _census_case(torch, name, batch, in_dim, out_dim, chunk_size):
    op, shapes = CENSUS[name]
    rng = np.random.default_rng(len(name) + batch)
    arrays = [np.moveaxis(rng.standard_normal((batch, *shape)), 0, in_dim % (len(shape) + 1)).copy()
              for shape in shapes]
    ours, theirs = _both(torch, lambda m: m.func.vmap(lambda *a: op(m, *a), in_dims=in_dim, out_dims=out_dim,
                                                      chunk_size=chunk_size)(*[m.tensor(a) for a in arrays]))
    if isinstance(theirs, type):
        assert ours is theirs
    else:
        _close(ours, theirs)


@pytest.mark.parametrize("name", sorted(CENSUS))
def test_each_op_of_the_census_under_vmap_matches_pytorch(torch, name):
    _census_case(torch, name, 3, 0, 0, None)
    _census_case(torch, name, 2, -1, 1, 1)


@given(st.sampled_from(sorted(CENSUS)), st.integers(1, 4), st.sampled_from([0, 1, -1]), st.sampled_from([0, 1, -1]),
       st.sampled_from([None, 1, 3]))
def test_property_census_ops_with_drawn_in_dims_out_dims_and_chunks_match_pytorch(torch, name, batch, in_dim,
                                                                                  out_dim, chunk_size):
    """The fuzzer's core: a drawn op, batch size, in_dim, out_dim and chunk_size, on both libraries."""
    _census_case(torch, name, batch, in_dim, out_dim, chunk_size)


# --- in-place changes inside the mapped function ---------------------------------------------------------------

def _batch_norm_model(m):
    m.manual_seed(0)
    return m.nn.Sequential(m.nn.Linear(3, 4), m.nn.BatchNorm1d(4)).double()


def test_a_batch_norm_module_in_training_under_vmap_is_refused_as_pytorch_refuses_it(torch):
    """Before: each item updated the running statistics: num_batches_tracked read 3 after one call over 3 items."""
    x = np.random.default_rng(0).standard_normal((3, 5, 3))
    ours, theirs = _both(torch, lambda m: m.func.vmap(_batch_norm_model(m))(m.tensor(x)))
    assert ours is theirs is RuntimeError
    model = _batch_norm_model(gg)
    with pytest.raises(RuntimeError, match="replace_all_batch_norm_modules_"):
        gg.vmap(model)(gg.tensor(x))
    assert int(model[1].num_batches_tracked) == 0 and model[1].running_mean.abs().sum().item() == 0


def test_functional_call_with_unmapped_buffers_in_training_is_refused_as_pytorch_refuses_it(torch):
    x = np.random.default_rng(1).standard_normal((3, 5, 3))

    def run(m):
        model = _batch_norm_model(m)
        params, buffers = dict(model.named_parameters()), dict(model.named_buffers())
        return m.func.vmap(lambda p, b, t: m.func.functional_call(model, (p, b), (t,)),
                           in_dims=(None, None, 0))(params, buffers, m.tensor(x))

    ours, theirs = _both(torch, run)
    assert ours is theirs is RuntimeError


def test_instance_norm_with_unmapped_running_statistics_under_vmap_is_refused_as_pytorch_refuses_it(torch):
    x = np.random.default_rng(2).standard_normal((3, 4, 5))
    ours, theirs = _both(torch, lambda m: m.func.vmap(lambda a: m.nn.functional.instance_norm(
        a.unsqueeze(0), m.zeros(4, dtype=a.dtype), m.ones(4, dtype=a.dtype), use_input_stats=True))(m.tensor(x)))
    assert ours is theirs is RuntimeError


def _same_weights(torch, ours, theirs):
    """``theirs`` (a torch module) given ``ours``'s (glassgrad's) parameters."""
    for (_, ours_p), (_, p) in zip(ours.named_parameters(), theirs.named_parameters()):
        p.data.copy_(torch.tensor(ours_p.detach().numpy()))
    return theirs


def _ensemble(m, models, x):
    params, buffers = m.func.stack_module_state(models)
    base = models[0]
    out = m.func.vmap(lambda p, b, t: m.func.functional_call(base, (p, b), (t,)))(params, buffers, m.tensor(x))
    return out, buffers["1.running_mean"], buffers["1.running_var"], buffers["1.num_batches_tracked"]


def test_an_ensemble_of_batch_norm_models_updates_each_models_stacked_statistics_once_as_pytorch(torch):
    """Stacked (mapped) buffers are each item's own: PyTorch and glassgrad both update each model's slice once."""
    x = np.random.default_rng(3).standard_normal((2, 6, 3))
    ours_models = [_batch_norm_model(gg) for _ in range(2)]
    theirs_models = [_same_weights(torch, ours, _batch_norm_model(torch)) for ours in ours_models]
    ours, theirs = _ensemble(gg, ours_models, x), _ensemble(torch, theirs_models, x)
    _close(ours, theirs)
    assert ours[3].tolist() == [1, 1]


def test_replace_all_batch_norm_modules_then_vmap_matches_pytorch(torch):
    x = np.random.default_rng(4).standard_normal((3, 5, 3))
    ours_model = _batch_norm_model(gg)
    theirs_model = _same_weights(torch, ours_model, _batch_norm_model(torch))
    outs = []
    for m, model in ((gg, ours_model), (torch, theirs_model)):
        m.func.replace_all_batch_norm_modules_(model)
        outs.append(m.func.vmap(model)(m.tensor(x)))
    _close(outs[0], outs[1])


def test_a_counter_from_outside_changed_by_each_item_is_refused_not_counted_once_per_item():
    """Before: ``c.add_(1)`` in the mapped function ran once per item (c = 3 after 3 items), where PyTorch's one
    batched call adds 1. A loop cannot add once, so glassgrad refuses after the first two items."""
    counter = gg.zeros(())
    with pytest.raises(RuntimeError, match="each item changes it again"):
        gg.vmap(lambda x: (counter.add_(1), x * 2)[1])(gg.ones(3, 2))
    assert counter.item() == 2  # the first two items ran: one item alone changes it once, as PyTorch's call


def _count_once(m):
    counter = m.zeros(())
    out = m.func.vmap(lambda x: (counter.add_(1), x * 2)[1])(m.ones(1, 2))
    return out, counter


def test_one_item_changing_a_tensor_from_outside_changes_it_once_as_pytorch(torch):
    _close(_count_once(gg), _count_once(torch))


def test_an_in_place_change_of_a_mapped_argument_changes_the_input_as_pytorch(torch):
    x = np.random.default_rng(5).standard_normal((3, 2, 4))
    outs = []
    for m in (gg, torch):
        a = m.tensor(x)
        out = m.func.vmap(m.func.vmap(lambda r: r.mul_(2).add_(1)), in_dims=1)(a)
        outs.append((out, a))
    _close(outs[0], outs[1])


def test_tensors_made_inside_the_function_and_changed_in_place_are_fine_as_in_pytorch(torch):
    x = np.random.default_rng(6).standard_normal((4, 3))

    def f(m, r):
        fresh = m.zeros(3, dtype=r.dtype).add_(1)  # unbatched into unbatched: fine in PyTorch too
        batched = r * 1
        batched.mul_(fresh + 1)
        return batched.exp_()

    ours, theirs = _both(torch, lambda m: m.func.vmap(lambda r: f(m, r))(m.tensor(x)))
    _close(ours, theirs)


def _per_sample_grads(m, model, x, y):
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, a, b):
        return m.nn.functional.mse_loss(m.func.functional_call(model, p, (a.unsqueeze(0),)), b.unsqueeze(0))

    return m.func.vmap(m.func.grad(loss), in_dims=(None, 0, 0))(params, m.tensor(x), m.tensor(y))


def test_per_sample_gradients_with_a_closure_model_are_not_refused(torch):
    """vmap(grad) of a loss through a model in a closure: nothing from outside changes, nothing is refused."""
    x = np.random.default_rng(7).standard_normal((5, 3))
    y = np.random.default_rng(8).standard_normal((5, 2))
    ours_model = gg.nn.Linear(3, 2).double()
    theirs_model = _same_weights(torch, ours_model, torch.nn.Linear(3, 2).double())
    _close(_per_sample_grads(gg, ours_model, x, y), _per_sample_grads(torch, theirs_model, x, y))


# --- shapes and structures that depend on the items' values -----------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda m: m.func.vmap(lambda r: r[r > 0])(m.tensor([[1.0, -1.0, 2.0], [1.0, 2.0, 3.0]])),
    lambda m: m.func.vmap(lambda r: m.nonzero(r))(m.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]])),
    lambda m: m.func.vmap(lambda r: r.unique())(m.tensor([[1.0, 1.0, 2.0], [1.0, 2.0, 3.0]])),
    lambda m: m.func.vmap(lambda r: (r, r) if r.sum() > 0 else r)(m.tensor([[1.0, 2.0], [-1.0, -2.0]])),
], ids=["mask", "nonzero", "unique", "control_flow_structure"])
def test_outputs_whose_shape_or_structure_depends_on_the_values_raise_pytorchs_runtime_error(torch, make):
    """Before: ValueError; PyTorch refuses data-dependent shapes and control flow with RuntimeError."""
    ours, theirs = _both(torch, make)
    assert ours is theirs is RuntimeError


def test_a_mask_message_names_the_shapes_and_the_fix():
    with pytest.raises(RuntimeError, match=r"shapes \[\(1,\), \(2,\)\].*torch.where"):
        gg.vmap(lambda r: r[r > 0])(gg.tensor([[1.0, -1.0], [1.0, 2.0]]))


def test_a_mask_of_equal_counts_works_as_glassgrads_noted_leniency():
    """PyTorch refuses any boolean mask under vmap; glassgrad's loop stacks items whose counts agree (noted)."""
    out = gg.vmap(lambda r: r[r > 0])(gg.tensor([[1.0, -1.0], [-2.0, 3.0]]))
    assert out.tolist() == [[1.0], [3.0]]


# --- randomness ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("draw", [
    lambda m, r: r + m.rand(3, dtype=r.dtype),
    lambda m, r: r + m.randn_like(r),
    lambda m, r: m.nn.functional.dropout(r, 0.5),
    lambda m, r: r * m.bernoulli(m.full_like(r, 0.5)),
], ids=["rand", "randn_like", "dropout", "bernoulli"])
def test_random_draws_under_randomness_error_raise_pytorchs_runtime_error(torch, draw):
    ours, theirs = _both(torch, lambda m: m.func.vmap(lambda r: draw(m, r))(m.ones(4, 3, dtype=m.float64)))
    assert ours is theirs is RuntimeError


def test_randomness_same_gives_every_item_the_same_draws_and_different_does_not():
    """'different': the items' 3 uniform float64 draws all agree by chance with probability ≪ 1e-9."""
    same = gg.vmap(lambda r: r * 0 + gg.rand(3, dtype=r.dtype), randomness="same")(gg.ones(4, 3, dtype=gg.float64))
    assert all(same[0].tolist() == row.tolist() for row in same)
    different = gg.vmap(lambda r: r * 0 + gg.rand(3, dtype=r.dtype), randomness="different")(
        gg.ones(4, 3, dtype=gg.float64))
    assert different[0].tolist() != different[1].tolist()
