"""Utilities for layers and their gradients (``gg.nn.utils``).

* :mod:`glassgrad.nn.utils.clip_grad`: :func:`clip_grad_norm_` rescales all gradients together when their
  overall norm exceeds ``max_norm`` (the step keeps its direction), :func:`clip_grad_value_` clamps each entry;
  :func:`get_total_norm` and :func:`clip_grads_with_norm_` are clip_grad_norm_'s two halves. Call them between
  ``loss.backward()`` and ``optimizer.step()``, to keep one bad batch from throwing the weights far away.
* :mod:`glassgrad.nn.utils.convert_parameters`: :func:`parameters_to_vector` / :func:`vector_to_parameters`
  flatten the parameters into one vector and back.
* :func:`weight_norm` and :func:`spectral_norm` (:mod:`glassgrad.nn.utils.normalized_weights`) make a layer's
  weight from a length and a direction, or divide it by its largest singular value, before each forward.
* :mod:`glassgrad.nn.utils.parametrize` makes a tensor of a layer computed from the numbers it learns
  (``register_parametrization``); :mod:`glassgrad.nn.utils.parametrizations` has the standard ones
  (``weight_norm``, ``spectral_norm``, ``orthogonal``).
* :func:`fuse_conv_bn_eval` / :func:`fuse_linear_bn_eval` (:mod:`glassgrad.nn.utils.fusion`) fold an
  evaluation-mode BatchNorm into the layer before it; :func:`skip_init` builds a module without its random start;
  ``clip_grad_norm`` and ``stateless.functional_call`` are PyTorch's deprecated spellings (they warn).
* :mod:`glassgrad.nn.utils.prune` sets a layer's least important weights to zero and keeps them there
  (``l1_unstructured``, ``ln_structured``, ``global_unstructured``…; ``remove`` makes it permanent).
* :mod:`glassgrad.nn.utils.rnn`: sequences of different lengths padded into one batch (``pad_sequence``) or
  packed (``pack_padded_sequence``, ``PackedSequence``) for the recurrent layers.

>>> import glassgrad as gg
>>> w = gg.tensor([0.0, 0.0], requires_grad=True)
>>> (w * gg.tensor([3.0, 4.0])).sum().backward()     # w.grad = [3, 4], norm 5
>>> gg.nn.utils.clip_grad_norm_([w], max_norm=1.0).item()
5.0
>>> [round(v, 4) for v in w.grad.tolist()]
[0.6, 0.8]
"""

from __future__ import annotations

from . import clip_grad as clip_grad
from . import convert_parameters as convert_parameters
from . import parametrizations as parametrizations
from . import parametrize as parametrize
from . import prune as prune
from . import rnn as rnn
from . import stateless as stateless
from .clip_grad import clip_grad_norm as clip_grad_norm
from .clip_grad import clip_grad_norm_ as clip_grad_norm_
from .clip_grad import clip_grad_value_ as clip_grad_value_
from .clip_grad import clip_grads_with_norm_ as clip_grads_with_norm_
from .clip_grad import get_total_norm as get_total_norm
from .convert_parameters import parameters_to_vector as parameters_to_vector
from .convert_parameters import vector_to_parameters as vector_to_parameters
from .fusion import fuse_conv_bn_eval as fuse_conv_bn_eval
from .fusion import fuse_conv_bn_weights as fuse_conv_bn_weights
from .fusion import fuse_linear_bn_eval as fuse_linear_bn_eval
from .fusion import fuse_linear_bn_weights as fuse_linear_bn_weights
from .init import skip_init as skip_init
from .normalized_weights import remove_spectral_norm as remove_spectral_norm
from .normalized_weights import remove_weight_norm as remove_weight_norm
from .normalized_weights import spectral_norm as spectral_norm
from .normalized_weights import weight_norm as weight_norm
