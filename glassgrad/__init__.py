"""glassgrad: backpropagation you can see through.

A reverse-mode autodiff engine over NumPy with PyTorch's names, plus the tools to
show, explain and check every number it computes.

>>> import glassgrad as gg
>>> x = gg.tensor([1.0, 0.0, 1.0, 1.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([2., 0., 2., 2.])
"""

from math import e, inf, nan, pi  # torch.inf, torch.nan, torch.pi, torch.e: Python's own numbers, as in PyTorch

from . import (
    _memory,
    anomaly,
    autograd_profiler,
    custom_function,
    forward_ad,
    functional_names,
    gradients,
    jacobians,
    legacy_types,
    linalg_decompositions,
    linalg_ex,
    linalg_least_squares,
    linalg_lu,
    numpy_keywords,
    saved_tensors,
    tensor_in_place,
    tensor_legacy,
)
from . import amp as amp
from . import autograd as autograd
from . import data as data
from . import distributions as distributions
from . import func as func
from . import jit as jit
from . import linalg as linalg
from . import nn as nn
from . import optim as optim
from . import random as random
from . import random_fills as random_fills  # x.exponential_(), x.random_() … (Tensor methods)
from . import sparse as sparse
from . import special as special
from . import testing as testing
from . import training as training
from . import utils as utils
from .amp import (
    autocast,
    clear_autocast_cache,
    cpu,
    get_autocast_dtype,
    is_autocast_cache_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from .anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .aten_names import frobenius_norm, nuclear_norm, rsub, scalar_tensor
from .aten_names import range as range  # PyTorch's deprecated torch.range, kept out of __all__ (Python's own)
from .autograd import enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled
from .batching import vmap
from .bitwise import (
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
)
from .broadcasting import Size, broadcast_shapes, broadcast_tensors
from .compiler import compile  # noqa: A004 (PyTorch's name: gg.compile, as torch.compile)
from .composed import (
    addcdiv,
    addcmul,
    addmm,
    addmv,
    aminmax,
    bincount,
    bucketize,
    clamp_max,
    clamp_min,
    count_nonzero,
    cross,
    cummax,
    cummin,
    cumulative_trapezoid,
    diff,
    dot,
    equal,
    frac,
    ger,
    hypot,
    index_add,
    index_fill,
    isfinite,
    isinf,
    isnan,
    logaddexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    median,
    meshgrid,
    moveaxis,
    movedim,
    mv,
    nan_to_num,
    nanmean,
    nansum,
    narrow,
    outer,
    rot90,
    searchsorted,
    std_mean,
    swapaxes,
    swapdims,
    take,
    take_along_dim,
    trapezoid,
    trapz,
    tril_indices,
    triu_indices,
    unique,
    var_mean,
    xlogy,
)
from .composed_foreach import (
    _foreach_add,
    _foreach_add_,
    _foreach_copy_,
    _foreach_div,
    _foreach_div_,
    _foreach_lerp,
    _foreach_lerp_,
    _foreach_mul,
    _foreach_mul_,
    _foreach_neg,
    _foreach_neg_,
    _foreach_norm,
    _foreach_sqrt,
    _foreach_sqrt_,
    _foreach_sub,
    _foreach_sub_,
    _foreach_zero_,
)
from .composed_joins import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block_diag,
    column_stack,
    diag_embed,
    dstack,
    hstack,
    row_stack,
    tensor_split,
    tile,
    vstack,
)
from .composed_math import (
    can_cast,
    copysign,
    deg2rad,
    float_power,
    fmax,
    fmin,
    heaviside,
    ldexp,
    logaddexp2,
    nextafter,
    promote_types,
    rad2deg,
    ravel,
    renorm,
    result_type,
    sgn,
    signbit,
)
from .composed_numbers import (
    addbmm,
    addr,
    angle,
    dist,
    fill,
    frexp,
    gcd,
    igamma,
    igammac,
    inner,
    isneginf,
    isposinf,
    lcm,
    put,
    vdot,
)
from .composed_picks import index_copy, index_put, kthvalue, masked_scatter, scatter_reduce
from .composed_products import baddbmm, cartesian_prod, cdist, combinations, kron, tensordot, vander
from .composed_ranks import mode, nanmedian, nanquantile, quantile
from .composed_slices import (
    argwhere,
    broadcast_to,
    concat,
    concatenate,
    diagflat,
    diagonal_scatter,
    dsplit,
    fliplr,
    flipud,
    hsplit,
    index_reduce,
    msort,
    select,
    select_scatter,
    slice_scatter,
    split_with_sizes,
    unique_consecutive,
    vsplit,
)
from .copies import (
    alias_copy,
    as_strided_copy,
    detach_copy,
    diagonal_copy,
    expand_copy,
    permute_copy,
    select_copy,
    slice_copy,
    split_copy,
    split_with_sizes_copy,
    squeeze_copy,
    t_copy,
    transpose_copy,
    unbind_copy,
    unfold_copy,
    unsqueeze_copy,
    view_copy,
)
from .creation import (
    arange,
    as_tensor,
    default_generator,
    empty,
    empty_like,
    eye,
    from_numpy,
    frombuffer,
    full,
    full_like,
    get_rng_state,
    initial_seed,
    linspace,
    logspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    seed,
    set_rng_state,
    tensor,
    zeros,
    zeros_like,
)
from .device import accelerator, backends, cuda
from .device import device as device  # the class torch.device (the module glassgrad.device holds it)
from .device import get_default_device as get_default_device
from .device import set_default_device as set_default_device
from .dtypes import (
    bfloat16,
    double,
    dtype,
    finfo,
    get_default_dtype,
    half,
    iinfo,
    int8,
    int16,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .dtypes import bool as bool  # bool, float, int, any, all, round: PyTorch's names, kept out of __all__
from .dtypes import float as float
from .dtypes import int as int
from .finite_differences import gradient
from .functional_names import (
    alpha_dropout,
    batch_norm,
    binary_cross_entropy_with_logits,
    constant_pad_nd,
    convolution,
    cosine_embedding_loss,
    ctc_loss,
    dropout,
    embedding,
    feature_alpha_dropout,
    feature_dropout,
    group_norm,
    hinge_embedding_loss,
    instance_norm,
    kl_div,
    layer_norm,
    margin_ranking_loss,
    max_pool1d_with_indices,
    poisson_nll_loss,
    rrelu,
    triplet_margin_loss,
)
from .functions import (
    abs,
    acos,
    acosh,
    add,
    allclose,
    amax,
    amin,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    argmax,
    argmin,
    argsort,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bmm,
    cat,
    ceil,
    chunk,
    clamp,
    clip,
    clone,
    cos,
    cosh,
    cumprod,
    cumsum,
    det,
    diag,
    diagonal,
    digamma,
    div,
    eq,
    erf,
    erfinv,
    exp,
    expm1,
    fix,
    flatten,
    flip,
    floor,
    floor_divide,
    fmod,
    gather,
    ge,
    greater,
    greater_equal,
    gt,
    i0,
    index_select,
    inverse,
    is_tensor,
    isclose,
    le,
    leaky_relu,
    lerp,
    less,
    less_equal,
    lgamma,
    linear,
    log,
    log1p,
    log2,
    log10,
    log_softmax,
    logcumsumexp,
    logsumexp,
    lt,
    masked_fill,
    masked_select,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mm,
    mul,
    ne,
    neg,
    nonzero,
    norm,
    not_equal,
    numel,
    permute,
    polygamma,
    pow,
    prod,
    reciprocal,
    relu,
    remainder,
    repeat_interleave,
    reshape,
    roll,
    rsqrt,
    scatter,
    scatter_add,
    sigmoid,
    sign,
    sin,
    sinh,
    slogdet,
    softmax,
    sort,
    split,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    sub,
    sum,
    t,
    tan,
    tanh,
    topk,
    transpose,
    tril,
    triu,
    trunc,
    unbind,
    unflatten,
    unsqueeze,
    var,
    where,
)
from .functions import abs as absolute
from .functions import all as all
from .functions import any as any
from .functions import div as divide
from .functions import div as true_divide
from .functions import mul as multiply
from .functions import neg as negative
from .functions import round as round
from .generator import Generator
from .gradcheck import GradcheckError, GradcheckReport, gradcheck
from .gradcheck import autograd_gradcheck as _autograd_gradcheck
from .gradcheck import gradgradcheck as _gradgradcheck
from .indices import isin, unravel_index
from .io import ModelFileError, load, save
from .legacy_types import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    set_default_tensor_type,
)
from .linalg import logdet, matrix_power
from .linalg_exp import matrix_exp
from .linalg_lu import cholesky_inverse, cholesky_solve, lu_unpack, triangular_solve
from .lowrank import pca_lowrank, svd_lowrank
from .memory_formats import channels_last, channels_last_3d, contiguous_format, memory_format, preserve_format
from .ops import RULES
from .ops_einsum import einsum
from .printing import set_printoptions
from .random_fills import binomial
from .sampling import bernoulli, multinomial, normal, poisson, rand_like, randint_like, randn_like
from .settings import (
    are_deterministic_algorithms_enabled,
    get_float32_matmul_precision,
    get_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    set_float32_matmul_precision,
    set_num_threads,
    use_deterministic_algorithms,
)
from .settings import get_num_interop_threads as get_num_interop_threads
from .settings import is_warn_always_enabled as is_warn_always_enabled
from .settings import set_flush_denormal as set_flush_denormal
from .settings import set_num_interop_threads as set_num_interop_threads
from .settings import set_warn_always as set_warn_always
from .sparse import sparse_coo_tensor, spmm
from .special import erfc, exp2, logit, sinc
from .statistics import corrcoef, cov, histc, histogram
from .statistics import histogramdd as histogramdd
from .tensor import Tensor, bool_, float16, float32, float64, int32, int64
from .tensor_aliases import (
    adjoint,
    chain_matmul,
    cholesky,
    detach,
    geqrf,
    is_complex,
    is_conj,
    is_floating_point,
    is_neg,
    is_nonzero,
    is_same_size,
    is_signed,
    isreal,
    lu,
    lu_solve,
    mvlgamma,
    orgqr,
    ormqr,
    pinverse,
    positive,
    qr,
    real,
    subtract,
    svd,
)
from .tensor_legacy import (
    asarray,
    empty_strided,
    nonzero_static,
)
from .tensor_memory import as_strided, as_strided_scatter, strided
from .trace import trace
from .training import fit
from .type_names import is_storage, typename
from .version import __version__
from .windows import bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window


def __getattr__(name: str):
    """``gg.lessons``, ``gg.practice``, ``gg.widgets``, ``gg.quasirandom`` and PyTorch's compiler names ``_dynamo`` and
    ``_inductor`` load on first use (keeps ``import glassgrad`` fast)."""
    # import_module, not ``from . import``: that asks this hook again, forever
    if name in ("lessons", "practice", "widgets", "quasirandom", "_dynamo", "_inductor"):
        from importlib import import_module

        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'glassgrad' has no attribute {name!r}")

_memory.tune_allocator()

# PyTorch's torch.autograd.Function and torch.autograd.grad, found on the engine's module (gg.autograd) as there;
# they are defined in modules above it, which use Tensor
autograd.Function, autograd.FunctionCtx = custom_function.Function, custom_function.FunctionCtx
autograd.function = custom_function  # torch.autograd.function: once_differentiable, Function
autograd.grad, autograd.backward = gradients.grad, gradients.backward
autograd.Variable = legacy_types.Variable  # torch.autograd.Variable
autograd.gradcheck, autograd.gradgradcheck = _autograd_gradcheck, _gradgradcheck
autograd.functional = jacobians  # torch.autograd.functional: jacobian, hessian, vjp, jvp, vhp, hvp
autograd.graph = saved_tensors  # torch.autograd.graph: saved_tensors_hooks, disable_…, save_on_cpu
autograd.forward_ad = forward_ad  # torch.autograd.forward_ad: dual_level, make_dual, unpack_dual
autograd.profiler = autograd_profiler  # torch.autograd.profiler: the older profile, record_function
autograd.detect_anomaly, autograd.set_detect_anomaly = anomaly.detect_anomaly, anomaly.set_detect_anomaly
cuda.amp = amp.cuda_amp  # torch.cuda.amp.autocast / GradScaler, as older AMP code imports them (warned)
# torch.backends.cuda's attention-kernel switches (sdp_kernel, enable_flash_sdp, …), kept by nn.attention_backends
for _name in ("sdp_kernel", "flash_sdp_enabled", "enable_flash_sdp", "math_sdp_enabled", "enable_math_sdp",
              "mem_efficient_sdp_enabled", "enable_mem_efficient_sdp", "cudnn_sdp_enabled", "enable_cudnn_sdp"):
    setattr(backends.cuda, _name, getattr(nn.attention_backends, _name))

# torch.linalg's decompositions, found on gg.linalg as there; their module uses functions defined after glassgrad.linalg
for _name in ("cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "householder_product",
              "NotPositiveDefiniteError"):
    setattr(linalg, _name, getattr(linalg_decompositions, _name))
# triangular solves, LU, and the _ex forms that return info instead of raising
for _name in ("solve_triangular", "lu_factor", "lu_factor_ex", "lu", "lu_solve"):
    setattr(linalg, _name, getattr(linalg_lu, _name))
for _name in ("cholesky_ex", "inv_ex", "solve_ex"):
    setattr(linalg, _name, getattr(linalg_ex, _name))
del _name
# least squares, rank, condition number, the matrix exponential and Vandermonde matrices (torch.linalg's names)
for _name in ("lstsq", "matrix_rank", "cond", "vander"):
    setattr(linalg, _name, getattr(linalg_least_squares, _name))
del _name
linalg.matrix_exp = matrix_exp
conj = conj_physical = resolve_conj = resolve_neg = real  # for real numbers, each gives the tensor itself
newaxis = None  # x[:, gg.newaxis]: a new dim of size 1, as NumPy's and PyTorch's
# torch.conv2d, torch.layer_norm … (nn.functional's own functions), torch.sin_(x) … (the in-place methods) and
# torch.t_copy(x) … (view ops, copied)
for _name, _function in {**functional_names.SAME, **functional_names.IN_PLACE, **tensor_in_place.FUNCTION_FORMS,
                         **tensor_legacy.FUNCTION_FORMS, **tensor_legacy.REMOVED, **tensor_legacy.COMPLEX}.items():
    globals()[_name] = _function
del _name, _function
# axis= and keepdims= for dim= and keepdim=, in every function and method with those, and out= in the top-level
# functions, as PyTorch takes them (nn.functional's take no out=: many of its names are also torch.*, the same
# function under both, and its calls are a training step's)
numpy_keywords.accept_numpy_keywords((globals(), vars(linalg), vars(special)), (Tensor, vars(nn.functional)),
                                     (func, random), without_out=(functional_names.SAME,))

__all__ = [
    "RULES", "GradcheckError", "GradcheckReport", "Tensor", "__version__", "abs", "add", "arange", "argmax",
    "argmin", "as_tensor", "bool_", "cat", "clamp", "cos", "default_generator", "div", "enable_grad", "exp", "eye",
    "fit", "flatten", "float16", "float32", "float64", "from_numpy", "full", "gradcheck", "int32", "int64",
    "is_anomaly_check_nan_enabled", "is_anomaly_enabled",
    "is_grad_enabled", "leaky_relu", "linear", "load", "log", "log_softmax", "logsumexp", "manual_seed", "matmul",
    "max", "maximum", "mean", "min", "minimum", "mul", "neg", "no_grad", "ones", "ones_like", "permute", "pow",
    "rand", "randint", "randn", "randperm", "relu", "reshape", "save", "set_grad_enabled", "sigmoid", "sin",
    "softmax", "sqrt", "squeeze", "stack", "std", "sub", "sum", "tanh", "tensor", "trace", "transpose", "unsqueeze",
    "var", "where", "zeros", "zeros_like",
    # the random stream's state (torch.random): saved, put back, forked
    "get_rng_state", "initial_seed", "random", "seed", "set_rng_state",
    # issue 11: creation, dtypes, devices, and the Tensor methods' function forms (float, int, bool, any, all,
    # round are left out of __all__: `from glassgrad import *` would hide Python's own)
    "Generator", "accelerator", "acos", "acosh", "allclose", "arccos", "arccosh", "arcsin", "arcsinh", "arctan",
    "arctan2", "arctanh", "argsort", "asin", "asinh", "atan", "atan2", "atanh", "backends", "bmm", "ceil", "chunk",
    "clip", "clone", "cosh", "cuda", "cumprod", "cumsum", "logcumsumexp", "device", "diag", "diagonal", "double",
    "dtype", "empty", "frombuffer",
    "empty_like", "eq", "expm1", "fix", "flip", "floor", "full_like", "gather", "ge", "get_default_dtype", "greater",
    "greater_equal", "gt", "half", "index_select", "int8", "int16", "is_floating_point", "is_tensor", "isclose", "le",
    "lerp", "less", "less_equal", "linspace", "log1p", "log2", "log10", "logspace", "long", "lt", "masked_fill",
    "masked_select", "mm", "multinomial", "ne", "nonzero", "normal", "not_equal", "numel", "prod", "rand_like",
    "randint_like", "randn_like", "reciprocal", "repeat_interleave", "roll", "rsqrt", "scatter", "scatter_add",
    "set_default_dtype", "set_printoptions", "short", "sign", "sinh", "sort", "split", "square", "t", "tan", "topk",
    "tril", "triu", "trunc", "uint8", "unflatten",
    # PyTorch's memory formats (glassgrad.memory_formats): PyTorch's strides for a tensor made in one
    "channels_last", "channels_last_3d", "contiguous_format", "memory_format", "preserve_format",
    # cut into pieces with one gradient buffer (glassgrad.ops_pieces)
    "unbind",
    # one op on each tensor of a list, PyTorch's torch._foreach_* (glassgrad.composed_foreach)
    "_foreach_add", "_foreach_add_", "_foreach_copy_", "_foreach_div", "_foreach_div_", "_foreach_lerp",
    "_foreach_lerp_", "_foreach_mul", "_foreach_mul_", "_foreach_neg", "_foreach_neg_", "_foreach_norm",
    "_foreach_sqrt", "_foreach_sqrt_", "_foreach_sub", "_foreach_sub_", "_foreach_zero_",
    # joins, cuts, products and picks made of other ops (glassgrad.composed_joins, composed_products, composed_picks)
    "atleast_1d", "atleast_2d", "atleast_3d", "baddbmm", "block_diag", "cdist", "column_stack", "diag_embed", "dstack",
    "hstack", "index_copy", "index_put", "kron", "kthvalue", "masked_scatter", "row_stack", "tensor_split",
    "tensordot", "tile", "vstack",
    # issue 15: capture and replay
    "compile",
    # torch.jit's script and trace give the model back (glassgrad runs its Python)
    "jit",
    # a PyTorch dtype NumPy has no arrays of: a name autocast takes, refused as a tensor's dtype
    "bfloat16",
    # PyTorch's constants: Python's own numbers (math.inf …), and newaxis = None for x[:, gg.newaxis]
    "e", "inf", "nan", "newaxis", "pi",
    # what gg.load raises for a file it refuses (catch it as gg.ModelFileError)
    "ModelFileError",
    # norms (torch.norm, torch.linalg) and the largest or smallest entry over dims
    "amax", "amin", "det", "distributions", "einsum", "erf", "inverse", "linalg", "logdet", "norm", "slogdet",
    "cholesky_inverse", "cholesky_solve", "lu_unpack", "triangular_solve",
    "special",
    # torch.sparse's products, and torch.spmm, for dense matrices (glassgrad has no sparse tensors)
    "sparse", "sparse_coo_tensor", "spmm",
    # special functions NumPy lacks (rows of glassgrad.ops_special, values from SciPy)
    "digamma", "erfinv", "i0", "lgamma", "polygamma",
    # more elementwise math and dtype rules made of other ops (glassgrad.composed_math)
    "can_cast", "copysign", "deg2rad", "float_power", "fmax", "fmin", "heaviside", "ldexp", "logaddexp2", "nextafter",
    "promote_types", "rad2deg", "ravel", "renorm", "result_type", "sgn", "signbit",
    # picks by rank and reductions onto positions (glassgrad.composed_ranks, composed_picks)
    "mode", "nanmedian", "nanquantile", "quantile", "scatter_reduce",
    # draws (glassgrad.sampling)
    "bernoulli", "poisson",
    # division with a remainder (a % b, a // b)
    "floor_divide", "fmod", "remainder",
    # functions made of other ops (glassgrad.composed)
    "addcdiv", "addcmul", "addmm", "addmv", "aminmax", "bincount", "bucketize", "clamp_max", "clamp_min",
    "count_nonzero", "cross", "cummax", "cummin", "diff", "dot", "equal", "frac", "ger", "hypot", "index_add",
    "index_fill", "isfinite", "isinf", "isnan", "logaddexp", "logical_and", "logical_not",
    "logical_or", "logical_xor", "median", "meshgrid", "moveaxis", "movedim", "mv", "nan_to_num", "nanmean",
    "nansum", "narrow", "outer", "rot90", "searchsorted", "std_mean", "swapaxes", "swapdims", "take",
    "take_along_dim", "tril_indices", "triu_indices", "unique", "var_mean", "xlogy",
    # statistics, integrals and products made of other ops (glassgrad.statistics, composed, composed_products)
    "cartesian_prod", "combinations", "corrcoef", "cov", "cumulative_trapezoid", "histc", "histogram", "matrix_exp",
    "trapezoid", "trapz", "vander",
    # settings, shapes, dtype limits, evaluation mode, mixed precision and testing, by PyTorch's names
    "Size", "amp", "are_deterministic_algorithms_enabled", "func", "autocast", "broadcast_shapes", "broadcast_tensors",
    "clear_autocast_cache", "cpu", "get_autocast_dtype", "is_autocast_cache_enabled", "is_autocast_enabled",
    "set_autocast_cache_enabled", "set_autocast_dtype", "set_autocast_enabled",
    "finfo", "get_float32_matmul_precision", "get_num_threads", "iinfo", "inference_mode", "is_inference_mode_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "set_float32_matmul_precision", "set_num_threads", "testing",
    "use_deterministic_algorithms", "utils",
    # torch.vmap, also found as torch.func.vmap (glassgrad.batching)
    "vmap",
    # the torch-more pass (glassgrad.copies, finite_differences, indices, lowrank, aten_names, settings, device)
    "alias_copy", "as_strided_copy", "detach_copy", "diagonal_copy", "expand_copy", "permute_copy", "select_copy",
    "slice_copy", "split_copy", "split_with_sizes_copy", "squeeze_copy", "t_copy", "transpose_copy", "unbind_copy",
    "unfold_copy", "unsqueeze_copy", "view_copy", "frobenius_norm", "get_default_device", "get_num_interop_threads",
    "gradient", "histogramdd", "is_storage", "is_warn_always_enabled", "isin", "nuclear_norm", "pca_lowrank", "pdist",
    "rsub", "scalar_tensor", "set_default_device", "set_flush_denormal", "set_num_interop_threads", "set_warn_always",
    "svd_lowrank", "typename", "unravel_index", "set_default_tensor_type", "FloatTensor", "DoubleTensor",
    "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
    # bits, slices, numbers, aliases, old matrix functions, windows, nn.functional's top-level names
    # (glassgrad.bitwise, composed_slices, composed_numbers, tensor_aliases, windows, functional_names)
    "absolute", "addbmm", "addr", "alpha_dropout", "argwhere", "bartlett_window", "batch_norm", "bitwise_and",
    "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "blackman_window",
    "broadcast_to", "cholesky", "concat", "concatenate", "diagflat", "diagonal_scatter", "dist", "divide", "dropout",
    "dsplit", "embedding", "erfc", "exp2", "feature_alpha_dropout", "fill", "fliplr", "flipud", "frexp", "gcd",
    "hamming_window", "hann_window", "hsplit", "igamma", "igammac", "inner", "instance_norm", "is_complex",
    "is_nonzero", "is_same_size", "is_signed", "isneginf", "isposinf", "kaiser_window", "lcm", "logit", "lu",
    "lu_solve", "matrix_power", "msort", "multiply", "mvlgamma", "negative", "pinverse", "positive", "qr", "select",
    "select_scatter", "sinc", "slice_scatter", "split_with_sizes", "subtract", "svd", "true_divide",
    "unique_consecutive", "vsplit", "adjoint", "angle", "chain_matmul", "detach", "is_conj", "is_neg",
    "isreal", "put", "real", "vdot", "conj", "conj_physical", "resolve_conj", "resolve_neg",
    "binary_cross_entropy_with_logits", "constant_pad_nd", "cosine_embedding_loss", "ctc_loss",
    "hinge_embedding_loss", "kl_div", "layer_norm", "group_norm", "margin_ranking_loss", "max_pool1d_with_indices",
    "poisson_nll_loss", "rrelu",
    "triplet_margin_loss", *functional_names.IN_PLACE, "binomial", "index_reduce",
    "geqrf", "orgqr", "ormqr", "convolution", "feature_dropout",

    "as_strided", "as_strided_scatter", "asarray", "nonzero_static", *functional_names.SAME,
    *tensor_in_place.FUNCTION_FORMS, *tensor_legacy.FUNCTION_FORMS, "empty_strided",
    "strided",
]
