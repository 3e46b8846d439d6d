"""``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention`` against PyTorch 2.13 and finite differences.

Both are compositions of rows (matmul, mul, add, softmax); the trace shows the attention step in
its usual symbols. A query whose keys are all masked gets 0 (and a 0 gradient), as PyTorch's
scaled_dot_product_attention gives; PyTorch's MultiheadAttention gives NaN there when it returns
the weights (a documented difference).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F


def _attention_inputs(rng, batch, length, keys, features, value_features):
    return (rng.normal(size=(*batch, length, features)), rng.normal(size=(*batch, keys, features)),
            rng.normal(size=(*batch, keys, value_features)))


def _run_sdpa(library, function, arrays, upstream, **options):
    tensors = [library.tensor(a, requires_grad=True) for a in arrays]
    options = {key: library.tensor(value) if isinstance(value, np.ndarray) else value for key, value in options.items()}
    out = function(*tensors, **options)
    out.backward(library.tensor(upstream))
    return [out.detach().numpy() if hasattr(out, "detach") else out.numpy()] + [t.grad.numpy() for t in tensors]


MASKS = ["none", "causal", "bool", "float", "scale", "bool with an empty row"]


def _options(kind, rng, length, keys):
    if kind == "causal":
        return {"is_causal": True}
    if kind == "bool":
        return {"attn_mask": rng.random((length, keys)) > 0.3}
    if kind == "float":
        return {"attn_mask": rng.normal(size=(length, keys))}
    if kind == "scale":
        return {"scale": 0.21}
    if kind == "bool with an empty row":
        mask = rng.random((length, keys)) > 0.3
        mask[0] = False
        return {"attn_mask": mask}
    return {}


@pytest.mark.torch
@given(batch=st.lists(st.integers(1, 3), max_size=2), length=st.integers(1, 5), keys=st.integers(1, 5),
       features=st.integers(1, 4), value_features=st.integers(1, 4), kind=st.sampled_from(MASKS),
       seed=st.integers(0, 10_000))
def test_sdpa_matches_pytorch_values_and_gradients(torch, batch, length, keys, features, value_features, kind, seed):
    rng = np.random.default_rng(seed)
    arrays = _attention_inputs(rng, batch, length, keys, features, value_features)
    options = _options(kind, rng, length, keys)
    upstream = rng.normal(size=(*batch, length, value_features))
    ours = _run_sdpa(gg, F.scaled_dot_product_attention, arrays, upstream, **options)
    theirs = _run_sdpa(torch, torch.nn.functional.scaled_dot_product_attention, arrays, upstream, **options)
    for mine, reference, what in zip(ours, theirs, ["output", "∂query", "∂key", "∂value"]):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12, err_msg=what)


@given(length=st.integers(1, 4), keys=st.integers(1, 4), kind=st.sampled_from(MASKS), seed=st.integers(0, 10_000))
def test_sdpa_matches_finite_differences(length, keys, kind, seed):
    rng = np.random.default_rng(seed)
    arrays = _attention_inputs(rng, (2,), length, keys, 3, 2)
    options = _options(kind, rng, length, keys)
    tensors = [gg.tensor(a, requires_grad=True) for a in arrays]
    assert gg.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **options), tensors).ok


@pytest.mark.torch
@given(groups=st.integers(1, 3), key_heads=st.integers(1, 3), value_heads=st.sampled_from(["same", "all"]),
       batched=st.booleans(), causal=st.booleans(), seed=st.integers(0, 10_000))
def test_grouped_query_attention_matches_pytorch(torch, groups, key_heads, value_heads, batched, causal, seed):
    """Llama-style code calls ``F.scaled_dot_product_attention(q, k, v, enable_gqa=True)`` with fewer key/value
    heads than query heads; glassgrad had no ``enable_gqa`` (TypeError). Values and gradients are PyTorch's."""
    rng = np.random.default_rng(seed)
    heads = groups * key_heads
    lead = (2,) * batched
    arrays = (rng.normal(size=(*lead, heads, 3, 4)), rng.normal(size=(*lead, key_heads, 4, 4)),
              rng.normal(size=(*lead, key_heads if value_heads == "same" else heads, 4, 2)))
    upstream = rng.normal(size=(*lead, heads, 3, 2))
    ours = _run_sdpa(gg, F.scaled_dot_product_attention, arrays, upstream, enable_gqa=True, is_causal=causal)
    theirs = _run_sdpa(torch, torch.nn.functional.scaled_dot_product_attention, arrays, upstream, enable_gqa=True,
                       is_causal=causal)
    for mine, reference, what in zip(ours, theirs, ["output", "∂query", "∂key", "∂value"]):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12, err_msg=what)


def _sdpa_outcome(library, shapes, dtypes, mask, enable_gqa):
    q, k, v = (library.zeros(shape, dtype=getattr(library, dtype)) for shape, dtype in zip(shapes, dtypes))
    options = {"enable_gqa": True} if enable_gqa else {}
    if mask is not None:
        options["attn_mask"] = library.ones(mask[0], dtype=getattr(library, mask[1]))
    try:
        return np.asarray(library.nn.functional.scaled_dot_product_attention(q, k, v, **options).tolist())
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error)


@pytest.mark.torch
@given(ndim=st.integers(1, 4), heads=st.sampled_from([(2, 2), (4, 2), (3, 2)]),
       features=st.sampled_from([(2, 2), (2, 3)]),
       dtypes=st.sampled_from([("float64",) * 3, ("float32", "float64", "float64")]),
       mask=st.sampled_from([None, ((3, 5), "bool"), ((4, 4), "bool"), ((3, 5), "int64")]), enable_gqa=st.booleans())
def test_sdpa_refuses_what_pytorch_refuses_with_its_error_type(ndim, heads, features, dtypes, mask, enable_gqa, torch):
    """Wrong shapes, dtypes and masks raise RuntimeError in PyTorch (IndexError where enable_gqa finds no heads
    dim); glassgrad raised ValueError or TypeError, so ``except RuntimeError`` missed them. Mixed dtypes were
    computed where PyTorch refuses them."""
    lead = ((2, heads[0]), (2, heads[1]), (2, heads[1]))
    shapes = [(*lead[i][4 - ndim:], length, width)[max(0, 2 - ndim):]
              for i, (length, width) in enumerate([(3, features[0]), (5, features[1]), (5, 2)])]
    if ndim == 1:
        shapes = [shape[-1:] for shape in shapes]
    ours, theirs = (_sdpa_outcome(library, shapes, dtypes, mask, enable_gqa) for library in (gg, torch))
    if isinstance(theirs, type):
        assert ours is theirs
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)
    integers = _sdpa_outcome(gg, shapes, ("int64",) * 3, None, False)  # PyTorch: RuntimeError, from the product
    assert integers is RuntimeError


def test_a_query_with_every_key_masked_gets_zero_and_no_nan():
    q = gg.randn(1, 3, 2, seed=0, requires_grad=True)
    mask = gg.tensor([[False, False, False], [True, True, False], [True, True, True]])
    out = F.scaled_dot_product_attention(q, q, q, attn_mask=mask)
    out.sum().backward()
    assert out[0, 0].tolist() == [0.0, 0.0]
    assert np.isfinite(q.grad.numpy()).all()


def _mha_pair(torch, embed, heads, batch_first, bias=True, dtype=None):
    ours = gg.nn.MultiheadAttention(embed, heads, bias=bias, batch_first=batch_first).double()
    theirs = torch.nn.MultiheadAttention(embed, heads, bias=bias, batch_first=batch_first).double()
    theirs.load_state_dict({name: torch.tensor(value.numpy()) for name, value in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.torch
def test_parameter_names_shapes_and_init_match_pytorch(torch):
    ours = gg.nn.MultiheadAttention(12, 3)
    theirs = torch.nn.MultiheadAttention(12, 3)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    bound = math.sqrt(6 / (12 + 36))  # xavier_uniform_ of a (36, 12) weight
    weights = ours.in_proj_weight.numpy()
    assert np.abs(weights).max() <= bound and np.abs(weights).max() > 0.8 * bound
    assert not ours.in_proj_bias.numpy().any() and not ours.out_proj.bias.numpy().any()
    assert np.abs(ours.out_proj.weight.numpy()).max() <= 1 / math.sqrt(12)
    assert ours.in_proj_weight.dtype == gg.float32
    assert list(gg.nn.MultiheadAttention(4, 2, bias=False).state_dict()) == \
        list(torch.nn.MultiheadAttention(4, 2, bias=False).state_dict())


MHA_CASES = {
    "plain": {},
    "causal": {"attn_mask": "causal", "is_causal": True},
    "padding": {"key_padding_mask": "padding"},
    "float padding and mask per head": {"key_padding_mask": "float padding", "attn_mask": "per head"},
    "weights per head": {"average_attn_weights": False},
    "no weights": {"need_weights": False},
}


def _mha_options(library, case, rng, batch, heads, length, keys):
    options = {}
    for name, value in MHA_CASES[case].items():
        if value == "causal":
            value = library.tensor(np.triu(np.ones((length, keys), dtype=bool), 1))
        elif value == "padding":
            padding = np.zeros((batch, keys), dtype=bool)
            padding[0, -1] = True
            value = library.tensor(padding)
        elif value == "float padding":
            value = library.tensor(np.where(np.arange(keys) == 0, -1.5, 0.0)[None].repeat(batch, 0))
        elif value == "per head":
            value = library.tensor(np.random.default_rng(9).normal(size=(batch * heads, length, keys)))
        options[name] = value
    return options


@pytest.mark.torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("case", list(MHA_CASES))
def test_multihead_attention_matches_pytorch(torch, case, batch_first):
    embed, heads, batch, length, keys = 8, 2, 3, 4, 4
    ours, theirs = _mha_pair(torch, embed, heads, batch_first)
    rng = np.random.default_rng(1)
    shape = (batch, length, embed) if batch_first else (length, batch, embed)
    x = rng.normal(size=shape)
    memory = rng.normal(size=shape)
    results = []
    for library, module in ((gg, ours), (torch, theirs)):
        query, key = library.tensor(x, requires_grad=True), library.tensor(memory, requires_grad=True)
        out, weights = module(query, key, key, **_mha_options(library, case, rng, batch, heads, length, keys))
        (out * library.tensor(np.cos(np.arange(out.numel()).reshape(out.shape)))).sum().backward()
        grads = [query.grad, key.grad] + [p.grad for _, p in module.named_parameters()]
        results.append([out, weights, *grads])
    for position, (mine, reference) in enumerate(zip(*results)):
        if reference is None:
            assert mine is None
            continue
        np.testing.assert_allclose(mine.numpy(), reference.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{case}: result {position}")


@pytest.mark.torch
@pytest.mark.parametrize("batch_first", [False, True])  # True: the batch of one goes in front (it went in dim 1)
def test_unbatched_input_matches_pytorch(torch, batch_first):
    ours, theirs = _mha_pair(torch, 6, 3, batch_first=batch_first)
    x = np.random.default_rng(2).normal(size=(5, 6))
    mine, my_weights = ours(gg.tensor(x), gg.tensor(x), gg.tensor(x))
    expected, their_weights = theirs(torch.tensor(x), torch.tensor(x), torch.tensor(x))
    np.testing.assert_allclose(mine.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(my_weights.numpy(), their_weights.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_multihead_attention_gradients_match_finite_differences():
    module = gg.nn.MultiheadAttention(4, 2, batch_first=True).double()
    x = gg.randn(2, 3, 4, seed=3, dtype=gg.float64, requires_grad=True)
    mask = gg.tensor(np.triu(np.ones((3, 3), dtype=bool), 1))
    params = [module.in_proj_weight, module.in_proj_bias, module.out_proj.weight]

    def loss(x, *weights):
        return module(x, x, x, attn_mask=mask)[0]

    assert gg.gradcheck(loss, [x, *params]).ok


def test_trace_shows_the_attention_step_in_its_symbols():
    q, k, v = (gg.randn(1, 3, 2, seed=s, requires_grad=True) for s in (1, 2, 3))
    with gg.trace() as tape:
        F.scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()
    formulas = [step["formula"] for step in tape.describe()["forward"]]
    assert formulas[:6] == ["Kᵀ = permute(K)", "Q·Kᵀ = Q @ Kᵀ", "S = Q·Kᵀ·0.707107", "S′ = S + M", "A = softmax(S′)",
                            "O = A @ V"]
    backward = [step["formula"] for step in tape.describe()["backward"]]
    assert any(formula.endswith("= Aᵀ @ ∂v₇/∂O") for formula in backward)  # ∂L/∂V = Aᵀ·∂L/∂O


def test_trace_of_the_module_shows_the_projections_and_the_attention():
    module = gg.nn.MultiheadAttention(4, 2, batch_first=True)
    x = gg.randn(1, 3, 4, seed=0)
    with gg.trace() as tape:
        tape.watch(module)
        module(x, x, x)[0].sum().backward()
    step = next(s for s in tape.describe()["forward"] if s["kind"] == "module")
    assert {"A = softmax(S)", "O = A @ V"} <= set(step["ops"])
    assert any(formula.endswith("= X·W_Qᵀ + b_Q") for formula in step["ops"])


@pytest.mark.parametrize("call, message", [
    (lambda: gg.nn.MultiheadAttention(6, 4), "embed_dim \\(6\\) must be divisible by num_heads \\(4\\)"),
    (lambda: gg.nn.MultiheadAttention(4, 2, kdim=3)(gg.zeros(3, 2, 4), gg.zeros(3, 2, 4), gg.zeros(3, 2, 4)),
     "key must have shape \\(L, N, E\\) or \\(L, E\\) with E = 3"),
    (lambda: gg.nn.MultiheadAttention(4, 2, dropout=1.5), "dropout probability has to be between 0 and 1"),
    (lambda: gg.nn.MultiheadAttention(4, 2)(gg.zeros(3, 2, 5), gg.zeros(3, 2, 5), gg.zeros(3, 2, 5)),
     "query must have shape \\(L, N, E\\) or \\(L, E\\) with E = 4"),
    (lambda: gg.nn.MultiheadAttention(4, 2)(gg.zeros(3, 2, 4), gg.zeros(3, 2, 4), gg.zeros(3, 2, 4),
                                            key_padding_mask=gg.tensor(np.zeros((3, 3), dtype=bool))),
     "key_padding_mask must have shape \\(2, 3\\)"),
    (lambda: gg.nn.MultiheadAttention(4, 2)(gg.zeros(3, 2, 4), gg.zeros(3, 2, 4), gg.zeros(3, 2, 4), is_causal=True),
     "is_causal=True is a hint about attn_mask"),
    (lambda: F.scaled_dot_product_attention(gg.zeros(2, 3), gg.zeros(2, 4), gg.zeros(2, 3)), "do not fit"),
    (lambda: F.scaled_dot_product_attention(gg.zeros(2, 3), gg.zeros(2, 3), gg.zeros(2, 3), is_causal=True,
                                            attn_mask=gg.ones(2, 2)), "either attn_mask or is_causal=True"),
    (lambda: F.scaled_dot_product_attention(gg.zeros(2, 3), gg.zeros(2, 3), gg.zeros(2, 3), attn_mask=gg.ones(3, 3)),
     "does not broadcast to the scores' shape"),
    (lambda: F.scaled_dot_product_attention(gg.zeros(3), gg.zeros(3), gg.zeros(3)), "query must be a floating"),
])
def test_bad_arguments_are_one_line_errors(call, message):
    refusals = (AssertionError, ValueError, TypeError, NotImplementedError, RuntimeError)
    with pytest.raises(refusals, match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


@pytest.mark.torch
@pytest.mark.parametrize("bias", [True, False])
def test_keys_and_values_of_other_widths_match_pytorch(torch, bias):
    ours = gg.nn.MultiheadAttention(6, 2, bias=bias, kdim=4, vdim=5, batch_first=True).double()
    theirs = torch.nn.MultiheadAttention(6, 2, bias=bias, kdim=4, vdim=5, batch_first=True).double()
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    theirs.load_state_dict({name: torch.tensor(value.numpy()) for name, value in ours.state_dict().items()})
    rng = np.random.default_rng(8)
    arrays = rng.normal(size=(2, 3, 6)), rng.normal(size=(2, 4, 4)), rng.normal(size=(2, 4, 5))
    results = []
    for library, module in ((gg, ours), (torch, theirs)):
        query, key, value = (library.tensor(a, requires_grad=True) for a in arrays)
        out, weights = module(query, key, value)
        out.sum().backward()
        results.append([out, weights, query.grad, key.grad, value.grad,
                        *[p.grad for _, p in module.named_parameters()]])
    for mine, reference in zip(*results):
        np.testing.assert_allclose(mine.numpy(), reference.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@given(widths=st.sampled_from([(None, None), (4, 5), (6, 3)]), part=st.integers(0, 3), seed=st.integers(0, 10_000))
def test_a_parametrized_projection_weight_is_the_one_used_as_pytorchs(torch, widths, part, seed):
    """``register_parametrization(mha, "q_proj_weight", …)`` on a layer with its own key and value widths: glassgrad
    read the weight from ``_parameters``, where a parametrized weight is not (KeyError)."""
    kdim, vdim = widths
    names = (["in_proj_weight"] if kdim is None else ["q_proj_weight", "k_proj_weight", "v_proj_weight"])
    name = (names + ["in_proj_bias"])[part % (len(names) + 1)]
    theirs = torch.nn.MultiheadAttention(6, 2, kdim=kdim, vdim=vdim).double()
    ours = gg.nn.MultiheadAttention(6, 2, kdim=kdim, vdim=vdim, dtype=gg.float64)
    ours.load_state_dict({key: value.numpy() for key, value in theirs.state_dict().items()})
    rng = np.random.default_rng(seed)
    arrays = rng.normal(size=(3, 2, 6)), rng.normal(size=(4, 2, kdim or 6)), rng.normal(size=(4, 2, vdim or 6))

    def run(library, module):
        class Affine(library.nn.Module):
            def forward(self, weight):
                return 2 * weight - 0.5

        library.nn.utils.parametrize.register_parametrization(module, name, Affine())
        out, weights = module(*(library.tensor(a) for a in arrays))
        (out.square().sum() + weights.square().sum()).backward()
        return [out.detach().numpy(), weights.detach().numpy()] + [p.grad.numpy() for p in module.parameters()]

    for mine, reference in zip(run(gg, ours), run(torch, theirs), strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@given(batch=st.lists(st.integers(1, 3), max_size=2), length=st.integers(1, 4), keys=st.integers(1, 5),
       value_features=st.integers(1, 3), kind=st.sampled_from(["none", "causal", "float"]), seed=st.integers(0, 10_000))
def test_queries_and_keys_without_features_attend_evenly_as_pytorchs(torch, batch, length, keys, value_features, kind,
                                                                     seed):
    """E = 0: every score is the empty sum 0, so each query averages the values it may see (softmax of the mask
    alone), as PyTorch gives; glassgrad's default scale 1/√E divided by zero (ZeroDivisionError)."""
    rng = np.random.default_rng(seed)
    arrays = _attention_inputs(rng, batch, length, keys, 0, value_features)
    options = _options(kind, rng, length, keys)
    upstream = rng.normal(size=(*batch, length, value_features))
    ours = _run_sdpa(gg, F.scaled_dot_product_attention, arrays, upstream, **options)
    theirs = _run_sdpa(torch, torch.nn.functional.scaled_dot_product_attention, arrays, upstream, **options)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)
    if kind == "none":  # by hand: the mean of the values
        np.testing.assert_allclose(ours[0], np.broadcast_to(arrays[2].mean(-2, keepdims=True), ours[0].shape),
                                   rtol=1e-12)


@pytest.mark.torch
@given(separate=st.booleans(), bias=st.booleans(), bias_kv=st.booleans(), zero_attn=st.booleans(),
       unbatched=st.booleans(), need_weights=st.booleans(), average=st.booleans(), out_features=st.integers(1, 7),
       masks=st.sampled_from(["none", "bool", "float"]), seed=st.integers(0, 10_000))
def test_functional_multi_head_attention_forward_matches_pytorch(torch, separate, bias, bias_kv, zero_attn, unbatched,
                                                                 need_weights, average, out_features, masks, seed):
    """``F.multi_head_attention_forward`` (the layer's computation with the weights passed in, sequence first;
    OpenAI CLIP's AttentionPool2d calls it with separate projection weights and an out projection of its own width)
    was missing (AttributeError). Values and the gradients of every input and weight against PyTorch."""
    embed, heads, length, keys, batch = 6, 2, 3, 4, 2
    key_width, value_width = (4, 3) if separate else (embed, embed)
    rng = np.random.default_rng(seed)
    lead = (lambda size: (size,)) if unbatched else (lambda size: (size, batch))
    arrays = {"query": rng.normal(size=(*lead(length), embed)), "key": rng.normal(size=(*lead(keys), key_width)),
              "value": rng.normal(size=(*lead(keys), value_width)),
              "in_proj_weight": None if separate else rng.normal(size=(3 * embed, embed)),
              "in_proj_bias": rng.normal(size=3 * embed) if bias else None,
              "bias_k": rng.normal(size=(1, 1, embed)) if bias_kv else None,
              "bias_v": rng.normal(size=(1, 1, embed)) if bias_kv else None,
              "out_proj_weight": rng.normal(size=(out_features, embed)),
              "out_proj_bias": rng.normal(size=out_features) if bias else None}
    if separate:
        arrays.update(q_proj_weight=rng.normal(size=(embed, embed)), k_proj_weight=rng.normal(size=(embed, key_width)),
                      v_proj_weight=rng.normal(size=(embed, value_width)))
    if masks != "none":  # the first key stays visible: a query that sees no key gets NaN from PyTorch here
        padding, blocked = rng.random(keys if unbatched else (batch, keys)) < 0.3, rng.random((length, keys)) < 0.3
        padding[..., 0] = blocked[:, 0] = False
        if masks == "float":
            padding, blocked = np.where(padding, -np.inf, 0.0), rng.normal(size=blocked.shape)
        arrays["key_padding_mask"], arrays["attn_mask"] = padding, blocked
    settings = {"embed_dim_to_check": embed, "num_heads": heads, "add_zero_attn": zero_attn, "dropout_p": 0.5,
                "training": False, "need_weights": need_weights, "use_separate_proj_weight": separate,
                "average_attn_weights": average}

    def run(library):
        tensors = {name: None if array is None else library.tensor(array, requires_grad=array.dtype.kind == "f"
                                                                   and "mask" not in name)
                   for name, array in arrays.items()}
        out, weights = library.nn.functional.multi_head_attention_forward(**tensors, **settings)
        (out.square().sum() + (0 if weights is None else weights.square().sum())).backward()
        return ([out.detach().numpy()] + ([] if weights is None else [weights.detach().numpy()])
                + [tensor.grad.numpy() for tensor in tensors.values() if tensor is not None and tensor.requires_grad])

    ours, theirs = run(gg), run(torch)
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-9, atol=1e-11)


def test_functional_multi_head_attention_forward_is_the_layers_computation():
    """The layer is the functional form given its parameters (one rule for both), batch first or not."""
    for batch_first in (False, True):
        layer = gg.nn.MultiheadAttention(4, 2, kdim=3, vdim=5, add_bias_kv=True, batch_first=batch_first,
                                         dtype=gg.float64)
        x, memory, values = (gg.randn(2, length, width, seed=seed, dtype=gg.float64)
                             for seed, (length, width) in enumerate([(3, 4), (5, 3), (5, 5)]))
        layout = (lambda t: t) if batch_first else (lambda t: t.transpose(0, 1))
        out, weights = layer(layout(x), layout(memory), layout(values))
        expected, expected_weights = F.multi_head_attention_forward(
            x.transpose(0, 1), memory.transpose(0, 1), values.transpose(0, 1), 4, 2, None, layer.in_proj_bias,
            layer.bias_k, layer.bias_v, False, 0.0, layer.out_proj.weight, layer.out_proj.bias,
            use_separate_proj_weight=True, q_proj_weight=layer.q_proj_weight, k_proj_weight=layer.k_proj_weight,
            v_proj_weight=layer.v_proj_weight)
        np.testing.assert_array_equal(layout(out).detach().numpy(), expected.transpose(0, 1).detach().numpy())
        np.testing.assert_array_equal(weights.detach().numpy(), expected_weights.detach().numpy())


@pytest.mark.parametrize("call, message", [
    (lambda: F.multi_head_attention_forward(gg.zeros(3, 2, 4), gg.zeros(3, 2, 4), gg.zeros(3, 2, 4), 6, 2,
                                            gg.zeros(12, 4), None, None, None, False, 0.0, gg.zeros(4, 4), None),
     "embed_dim_to_check = 6"),
    (lambda: F.multi_head_attention_forward(gg.zeros(3, 2, 4), gg.zeros(3, 2, 4), gg.zeros(3, 2, 4), 4, 2,
                                            None, None, None, None, False, 0.0, gg.zeros(4, 4), None),
     "in_proj_weight must be given"),
    (lambda: F.multi_head_attention_forward(gg.zeros(3, 2, 4), gg.zeros(3, 2, 4), gg.zeros(3, 2, 4), 4, 2,
                                            gg.zeros(12, 4), None, None, None, False, 0.0, gg.zeros(4, 4), None,
                                            static_k=gg.zeros(4, 3, 2)),
     "static_k and static_v .* are not supported"),
])
def test_functional_multi_head_attention_forward_refuses_in_one_line(call, message):
    with pytest.raises((AssertionError, ValueError, NotImplementedError), match=message) as caught:
        call()
    assert "\n" not in str(caught.value)
