"""Shape ops, indexing and joining: gradients vs finite differences and PyTorch.

Their backward moves numbers instead of computing them: reshape back, transpose back, sum the
copies an ``expand`` made, scatter-add what indexing picked (repeated indices add up), and cut a
``cat``/``stack`` gradient into the pieces.
"""

from __future__ import annotations

from hypothesis import strategies as st
from test_engine_oracle import Case, same_shapes, shapes, table_tests


@st.composite
def cat_shapes(draw, dim: int, counts=st.integers(2, 3)):
    """Shapes equal except along ``dim``, as many as ``counts`` draws."""
    base = list(draw(shapes(1, min_dims=2))[0])
    result = []
    for _ in range(draw(counts)):
        base[dim] = draw(st.integers(1, 3))
        result.append(tuple(base))
    return tuple(result)


one = shapes(1)
at_least_1d = shapes(1, min_dims=1)
matrices = shapes(1, min_dims=2, max_dims=2)
at_least_2d = shapes(1, min_dims=2)
at_least_2x2 = shapes(1, min_dims=2, min_side=2)
exactly_3d = shapes(1, min_dims=3, max_dims=3)


CASES = [
    # --- views of the same numbers -------------------------------------------------------------
    Case("reshape -1", [lambda lib, x: x.reshape(-1), lambda lib, x: lib.reshape(x, (-1,)),
                        lambda lib, x: x.view(-1)], one),
    Case("reshape reversed", [lambda lib, x: x.reshape(tuple(x.shape)[::-1]),
                              lambda lib, x: x.view(*reversed(tuple(x.shape))),
                              lambda lib, x: lib.reshape(x, tuple(x.shape)[::-1])], at_least_1d),
    Case("view (-1, 1)", [lambda lib, x: x.view(-1, 1), lambda lib, x: x.reshape((-1, 1))], one),
    Case("flatten", [lambda lib, x: x.flatten(), lambda lib, x: lib.flatten(x)], one),
    Case("flatten from 1", [lambda lib, x: x.flatten(1), lambda lib, x: lib.flatten(x, start_dim=1)], at_least_2d),
    Case("flatten 0..1", [lambda lib, x: x.flatten(0, 1), lambda lib, x: lib.flatten(x, 0, 1)], exactly_3d),
    Case("transpose", [lambda lib, x: x.transpose(0, -1), lambda lib, x: lib.transpose(x, -1, 0)], at_least_2d),
    Case("T", [lambda lib, x: x.T, lambda lib, x: x.transpose(1, 0)], matrices),
    Case("permute", [lambda lib, x: x.permute(2, 0, 1), lambda lib, x: x.permute((2, 0, 1)),
                     lambda lib, x: lib.permute(x, (2, 0, 1))], exactly_3d),
    Case("unsqueeze", [lambda lib, x: x.unsqueeze(1), lambda lib, x: lib.unsqueeze(x, 1)], at_least_1d),
    Case("unsqueeze -1", [lambda lib, x: x.unsqueeze(-1), lambda lib, x: lib.unsqueeze(x, -1)], one),
    Case("squeeze", [lambda lib, x: x.squeeze(), lambda lib, x: lib.squeeze(x)], one),
    Case("squeeze 0", [lambda lib, x: x.squeeze(0), lambda lib, x: lib.squeeze(x, 0)], at_least_1d),
    Case("expand new dim", [lambda lib, x: x.expand(3, *x.shape), lambda lib, x: x.expand((3, *x.shape))], one),
    Case("expand size-1 dims", [lambda lib, x: x.expand(*[4 if n == 1 else n for n in x.shape]),
                                lambda lib, x: x.expand(2, *[4 if n == 1 else -1 for n in x.shape])[1]], at_least_1d),
    # --- indexing ----------------------------------------------------------------------------------
    Case("getitem int", [lambda lib, x: x[1], lambda lib, x: x[1, ...]], at_least_2x2),
    Case("getitem two ints", [lambda lib, x: x[-1, 0], lambda lib, x: x[-1][0]], at_least_2x2),
    Case("getitem slices", [lambda lib, x: x[1:, ::2], lambda lib, x: x[1:][:, ::2]], at_least_2x2),
    Case("getitem ellipsis None", [lambda lib, x: x[..., None, -1]], at_least_1d),
    Case("getitem integer array with repeats", [lambda lib, x: x[[0, 1, 0, 0]],
                                                lambda lib, x: x[lib.tensor([0, 1, 0, 0])]], at_least_2x2),
    Case("getitem integer array in dim 1", [lambda lib, x: x[:, [1, 1, 0]]], at_least_2x2),
    Case("getitem two integer arrays", [lambda lib, x: x[[0, 1, 0], [1, 0, 1]]], at_least_2x2),
    Case("getitem boolean mask", [lambda lib, x: x[x > 0], lambda lib, x: x[(x > 0).numpy()]], one, ("nonzero",),
         torch_forms=[lambda lib, x: x[x > 0], lambda lib, x: x[x.detach() > 0]]),
    Case("getitem boolean mask of rows", [lambda lib, x: x[x.sum(dim=1) > 0]], matrices, ("nonzero",)),
    # --- joining ----------------------------------------------------------------------------------
    Case("cat dim 0", [lambda lib, *xs: lib.cat(xs), lambda lib, *xs: lib.cat(list(xs), dim=0)], cat_shapes(0)),
    Case("cat dim -1", [lambda lib, *xs: lib.cat(xs, -1)], cat_shapes(-1)),
    Case("cat with itself", [lambda lib, x, y: lib.cat([x, y, x], 1)], cat_shapes(1, st.just(2))),
    Case("stack", [lambda lib, *xs: lib.stack(xs), lambda lib, *xs: lib.stack(list(xs), dim=0)],
         st.integers(2, 3).flatmap(lambda n: same_shapes(n))),
    Case("stack dim -1", [lambda lib, x, y: lib.stack([x, y], dim=-1)], same_shapes(2)),
]

test_gradients_match_finite_differences, test_values_and_gradients_match_pytorch = table_tests(CASES)
