"""``gg.compile(fn)``: capture a step's NumPy kernels once, then replay them without the engine around them.

>>> import glassgrad as gg
>>> w = gg.tensor([1.0, -2.0], requires_grad=True)
>>> opt = gg.optim.SGD([w], lr=0.1)
>>> @gg.compile
... def step(x):
...     opt.zero_grad()
...     loss = ((w * x).sum() - 1) ** 2
...     loss.backward()
...     opt.step()
...     return loss
>>> [round(step(gg.tensor([1.0, float(i)])).item(), 4) for i in range(4)]
[0.0, 4.0, 7.84, 0.2304]

Semantics (eager stays the reference; a compiled call changes nothing but the clock):

* **Key.** Calls are grouped by the shapes, strides (a transposed batch is not a contiguous one: ``x.view(-1)``,
  ``x.contiguous()``, ``x.stride()`` read the layout), dtypes and ``requires_grad`` of the tensor arguments, the other
  arguments' values (an object passed, ``step(x, cfg)``, by identity, and the attributes the step names of it,
  ``cfg.scale``, are guarded as a global's are; a function passed, ``step(x, updater)``, has what it reads guarded as
  a helper's) and the grad mode; each key has its own program (at most
  :data:`MAX_PROGRAMS`: the least recently captured key still without a program is dropped first), so the
  last, shorter batch of an epoch gets one of its own. Keys that keep changing (a new batch shape at every
  call, a sequence growing token by token) are captured and never replayed: once that many were dropped
  unused, calls with a new key run eagerly from then on, with one warning, and the keys with a program go on
  replaying.
* **Capture.** A key's first calls run eagerly while a :class:`~glassgrad.compiler.capture.Recorder`
  writes down every kernel: each op's forward, each backward rule in the walk's order, the
  sums over broadcast axes, the additions where gradients meet, the store into ``.grad``, and
  library calls taken whole (``optimizer.step()`` with its step hooks, a learner's optimizer's own ``step`` too,
  ``zero_grad()``, ``clip_grad_norm_`` (and its halves ``get_total_norm``, ``clip_grads_with_norm_``),
  ``scheduler.step()``, ``AveragedModel.update_parameters``, a dropout mask's
  draw, BatchNorm's running statistics). Two captures that agree make the program
  (:mod:`glassgrad.compiler.program`): replay starts with the third call.
* **Replay.** Tensor arguments are the program's inputs; parameters, buffers, ``.grad`` and the
  optimizer's state are the very same arrays eager uses, read and written in place where
  eager writes them, so edits made between calls are seen and the rest of the program cannot
  tell the difference. Every kernel is the function eager calls, on the same numbers, with the
  same Python scalars (the optimizer reads its learning rate at each step, so schedulers work):
  results are identical to eager, bit for bit. ``.grad`` arrays are new each step, as in eager. A ∂L/∂out given
  (``loss.backward(scale)``, ``grad(out, w, grad_outputs=v)``) is copied by a kernel too, so one made from the batch
  replays and one changed in place between calls (a loss scale) is read anew.
  Randomness replays too: a dropout mask, ``randn_like(std)`` or ``x.uniform_()`` is drawn again, from the
  same generator, at the same point of its stream, so it is what eager would draw; and a stream restarted or moved
  inside the step (``gg.manual_seed(k)``, ``generator.manual_seed(k)``, ``gg.set_rng_state(saved)``, a state read
  with ``get_rng_state()``) is restarted, moved and read at each replayed call too.
* **Guards.** Before a replay: the parameters and buffers of every layer the step called, and the other tensors
  it reads from outside (a global tensor, a layer's plain tensor attribute ``self.mean``), are
  still the same arrays (``p.data = …``, ``c.data = c.data.double()`` replaces one: captured again), ``requires_grad``
  is unchanged (``c.requires_grad_()``: captured again, so its gradient is stored), each layer is in the same mode
  (``train()``/``eval()``: a key keeps a program for each set of modes met, up to
  :data:`~glassgrad.compiler.compiled.MAX_MODES`, each captured twice; a step that sets the mode itself,
  ``model.train()`` at its top after ``model.eval()`` outside before every call, runs eagerly, saying so), still has
  the same settings (its Python numbers, strings and flags: ``dropout.p``, ``bn.momentum``, a loss's ``reduction``;
  one changed between calls: captured again; taken as the step starts, so that a ``forward`` counting
  ``self.calls += 1`` fails it at the next call, and runs eagerly, naming it) and still holds the same parameters,
  buffers, sublayers and other
  attributes, and no more (``model.fc = nn.Linear(…)``, ``self.shift = gg.tensor(…)``, ``self.act = gg.tanh``,
  ``layer.forward = f`` after a capture: captured again; a layer parametrized since, ``spectral_norm(model.fc)``,
  too: what a layer holds is read from its ``__dict__``, never through the property that would run the
  parametrization), its class has the same ``forward`` (``nn.ReLU.forward = f``), no function of ``gg`` or ``F``
  was bound anew since (``F.relu = my_relu``, read by ``nn.ReLU``'s code: every program is dropped where it is
  bound, so the guards pay nothing for it), and a ``.grad`` that the step reads after
  its ``backward()`` (``p -= lr * p.grad``) is still empty if it was at capture (one set between calls is
  added to, as eager adds: captured again), and each name the step's own code reads from outside it (a global or
  closure variable, an attribute of a settings object: ``lr``, ``args.clip``, a global tensor, a helper function,
  a layer's ``self.config.scale``, an environment variable: ``os.environ["SCALE"]``) still holds what it held
  (:mod:`glassgrad.compiler.names`; ``lr = lr * 0.9`` between calls: captured again; a name bound anew at every
  call makes the key run eagerly, saying which; a NumPy array read by name, ``CLASS_WEIGHTS[k]``, also by its
  numbers: ``CLASS_WEIGHTS[1] = 2.0`` between calls: captured again), and the default float dtype is the same
  (``gg.set_default_dtype``).
* **A forward whose backward runs outside** (``model = gg.compile(model)``, then ``loss_fn(model(x), y).backward()``
  outside it, as PyTorch 2's tutorials write it): the capture also walks the returned tensor's graph once
  (from a ∂L/∂out of ones, each ``.grad`` put back as it was), so the program holds that backward's kernels
  too. A replay gives back one node, ``grad_fn`` the row ``compiled forward``, whose rule replays them when
  ``backward()`` reaches it and hands each parameter the gradient eager's walk gives it, bit for bit (under anomaly
  detection switched on since the forward, each replayed rule's gradients are checked for NaN, as eager's walk
  checks them; the message names the op and ∂L/∂out, not the forward's values, which the replay did not keep). Like
  eager's rows it refuses a value it kept that was changed in place since (PyTorch's error); under
  ``create_graph=True`` it gives the same gradients, which refuse to be differentiated again, as PyTorch's compiled
  graphs refuse double backward. A forward
  returning two or three tensors in the graph (``logits, loss``) gives one node per output, walked as one (a
  joint row): the capture walks once from each set of outputs ``backward()`` may reach, and the node replays
  the walk of the set given gradients. Left eager, saying why: more tensors in the graph or one returned twice,
  a graph reaching tensors made before the call that are not its arguments, a hook on a tensor of its graph (one
  on the output, registered after the call, runs as eager runs it), ``retain_grad()``.
  A parameter used more than once (tied weights, a recurrent layer's loop) is a parent of the node once per
  part of its gradient, so the engine adds the parts in the walk's order, into what other ops give it, as
  eager does; an argument that requires grad is a parent too, the call's own tensor: a leaf (a saliency map's
  input) or a tensor made by ops outside (an encoder's output given to a compiled decoder, a generator's to a
  compiled critic), where the walk stops and the engine carries the gradient on into the graph outside.
* **Leaner than eager, same numbers.** Each value lives only while the step still needs it (the
  replay's variables are reused), and a ``.grad`` stored only to be reset unread
  (``p.grad = None`` after the update) is not stored at all, nor is a loss the step does not return
  computed (only what its backward needs: ``ŷ − y`` for MSE, the row's ``saved_alone``);
  ``explain()`` marks what is left out.
* **Refusals.** What a replay cannot repeat is detected at capture: reading a value inside the
  step (``.item()``, ``float(t)``, ``if t > 0``, ``x[t]`` with a 0-d integer ``t``, ``.numpy()``, printing, ``if
  gg.equal(a, b)``; and, found in the step's own code, a
  tensor's NumPy array named as ``.array``: ``if x.array.sum() > 0``, ``m.bias.array[0] += 0.5``), Python that
  writes outside the step at each call, found there too (``print("step")``, ``print(x.shape)`` in a ``forward``,
  ``log.info(…)``, ``warnings.warn``, ``sys.stdout.write``, a progress bar's ``update``) or reads the clock
  (``if time.time() - start > 60``, ``perf_counter()``, ``datetime.now()``) or catches an exception (``try: …
  except E: …``, where a later call's error would reach the caller past the handler), an in-place
  change of a graph tensor other than a write into one the step made (``detach_()``, an operand of another dtype; a
  write such as ``x.relu_()``, ``nn.ReLU(inplace=True)``, ``x.copy_(v)``, ``x[i] = v``, ``h += b`` or ``h *= w`` is a
  kernel, and so is the copy of the old h that mul's rule reads back; a write through a view of one, ``m[1].mul_(v)``,
  ``x.reshape(-1, n)[mask] = v``, ``scores[:, :3] += bias``, is one too, and the tensor it views, re-based as eager
  re-bases it, and that tensor's other views, read again, one kernel each; through a view of a tensor the step did
  not make, an argument say, it is refused), a tensor given other memory
  (``p.grad.data = g * 0.5``, ``p.data = p.data - lr * p.grad``, ``t.set_(v)``: a later kernel reaching the tensor,
  an optimizer reading ``p.grad``, would read its old array; ``p.grad = g * 0.5`` or ``p.grad.mul_(0.5)`` replay),
  random draws made outside a kernel (a layer built inside the step, ``random_split``; dropout's masks,
  ``randn``/``rand``/``randint``/``randperm``, ``gg.normal``, ``bernoulli``, ``poisson``, ``multinomial``,
  ``binomial``, the fills ``x.uniform_()``, ``x.normal_()``…, ``nn.init``'s, ``F.rrelu``, ``F.gumbel_softmax``
  and the distributions' draws (``rsample`` of ε: Normal, MultivariateNormal, …; the gamma family's ``rsample``:
  Gamma, Chi2, Beta, Dirichlet, StudentT; ``sample`` of Categorical, OneHotCategorical, Bernoulli, Poisson,
  Binomial, NegativeBinomial, Multinomial, Geometric, VonMises) draw in one, from the stream they pick at each call,
  and the distributions' checks of their parameters and of a value to score are kernels too, run at each call), hooks
  (but glassgrad's own forward pre-hooks, the old-style ``spectral_norm``'s, ``weight_norm``'s and a pruning method's:
  their ops are kernels, spectral norm's power iteration one too, their settings guarded as a layer's; the weight
  they bind, ``layer.weight``, is bound by a kernel, a value after a replayed call, with eager's numbers but no
  ``grad_fn``, as a returned tensor), a
  custom ``autograd.Function``, ``create_graph=True``, ``backward(inputs=…)``, ``gg.autograd.grad`` of several
  outputs at once (of one, it replays: its walk is captured as ``backward()``'s, its gradients returned),
  ``retain_grad``, a boolean mask's data-dependent shape, layers built at each call (a loss module,
  ``nn.CrossEntropyLoss()(out, y)``: no two captures call the same layers), a post-accumulate-grad hook, ``gg.save``, a
  draw from Python's ``random`` module or NumPy's (its global generator, ``np.random.rand()``, or a ``Generator``:
  a branch on it would be taken as at capture), an iterator or a file the step's code reads by
  name (``x, y = next(batches)``, ``if next(counter) % 4 == 0``, ``log.write(…)``: a replay would take no item and
  write nothing), a returned graph other than the tensors of a forward (or tensors of one memory, ``m, m[0]``:
  eager links them, so a write into one after the call re-bases the other), and a step that does different work on
  each call (captures that disagree three times with none agreeing between: a step whose work changes once, at a
  layer unfrozen, then settles, replays on). Each gives a one-line warning saying why, and that key runs eagerly
  from then on (same results); ``fullgraph=True`` raises :class:`CompileRefused` instead.
  While a tape records (``gg.trace``) calls run eagerly, so that it sees every step (one warning); so
  do they while anomaly detection is on (:mod:`glassgrad.anomaly`), so that every backward rule is checked,
  inside a forward-mode dual level (:mod:`glassgrad.forward_ad`), so that every op carries its tangent, and while a
  transform that differentiates the call's graph twice runs it (``func.jvp``, ``jacfwd``, ``hessian``;
  ``autograd.functional``'s ``jvp``, ``hvp``, ``vhp``, ``hessian``, forward-mode ``jacobian``:
  :class:`glassgrad.autograd.differentiated_twice`), which a replayed backward cannot be. A step
  that switches anomaly detection on itself (``with detect_anomaly(): loss.backward()``) runs eagerly too, saying so,
  and so does one that leaves a process-wide switch other than it found it (``gg.set_grad_enabled(False)`` called,
  not a with-block; ``set_detect_anomaly(True)``, ``gg.set_default_dtype``, ``use_deterministic_algorithms``): a
  replay, with no Python, would neither check nor switch.
* **Limits.** Python values the step reads from outside other than by name in its own code (a library's code
  reading a value, ``os.environ`` inside a package say, an entry of a long list, an attribute more than three
  levels down) are those of the captures: pass one that changes as an argument (it is part of the key); the
  optimizer's hyper-parameters are read at each step (and those the step's own code reads,
  ``opt.param_groups[0]["lr"]``, ``sched.get_last_lr()``, are guarded; a step that calls that scheduler's
  ``step()`` itself, or an optimizer's whose step hooks may change them, changes them after the guard's look, so it
  runs eagerly, saying so; a step hook registered after the captures ends the replays of a program that reads
  them), and a layer's settings are
  guarded (above); a value handed to a helper that reads it (``rate_of(opt)``) is not seen. Python side effects
  inside the step that its code shows (``print``, a logger, a file: Refusals, above) run it eagerly; others, in a
  library's code, happen on the capture calls only; where the step changes what its code reads by name (appends to
  a list, counts in an attribute) or binds an attribute of an object it names (``log.loss = loss.detach()``,
  ``self.meta.last = attn``), a guard sees it and the step runs eagerly, naming it. Returned tensors are values (no
  ``grad_fn``), except a forward's output whose backward runs outside (above); one made of what the step's own
  backward freed (the attention weights a seq2seq step returns, ``loss * accumulation_steps``) is a value in eager
  too, whose backward raises.
  Comparisons, ``argmax``, ``F.one_hot``, dtype promotion, sorting and ``topk``, bitwise and logical ops,
  ``isnan``, ``any``/``all``, ``searchsorted`` and attention's masks inside the step are kernels, worked out
  again at each call, and so are an op's checks of the values (an index in range for ``gather``, a class
  label, an integer divisor's 0: refused at every call, in eager's words; :func:`glassgrad.autograd.recorded_call`),
  and so is ``nn.Embedding(max_norm=…)``'s rescale of the rows a batch reads, in place, counted as a change of the
  table where it changes it (one of a table the forward read before, a tied read-out, runs the step eagerly: eager's
  backward refuses that read-out where the rescale changed its table);
  what a library op works out in Python from the values instead (a median's pick, ``nonzero``, ``lstsq``'s way
  by rank) is told to the capture (:func:`glassgrad.autograd.note_computed`, ``note_unreplayable``), and
  the step runs eagerly. The user's own NumPy code on tensor values is caught when two captures see other
  numbers, so a step always fed the very same batch cannot tell.
* ``compiled.explain()`` shows the program: the kernels in order, by pass and layer, with buffer
  sizes and each row's formula (a library helper run as a kernel named by the op it ran in: ``gather's
  _refuse_index_outside``, as a refusal names it too), then the guards a replay checks first
  (``lr == 0.1 (float)``, ``w: the same Tensor``) (:mod:`glassgrad.compiler.explain`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..autograd import note_unreplayable
from .capture import CompileRefused
from .compiled import Compiled, check_options, is_compiling, reset, set_stance
from .optimized_module import OptimizedModule

__all__ = ["Compiled", "CompileRefused", "OptimizedModule", "allow_in_graph", "compile", "cudagraph_mark_step_begin",
           "disable", "is_compiling", "is_dynamo_compiling", "reset", "set_stance"]

is_dynamo_compiling = is_compiling
"""PyTorch's other name of :func:`is_compiling`."""


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable = "inductor", mode: str | None = None, options: dict | None = None,
            disable: bool = False) -> Any:
    """Compile ``model`` (a training step, or any function or module over tensors); usable as a decorator.

    ``gg.compile(step)``, ``@gg.compile``, ``@gg.compile(fullgraph=True)``: PyTorch 2's name and
    calling convention. ``fullgraph=True`` raises :class:`CompileRefused` where the default
    warns and runs eagerly. See this module's docstring for what is replayed and what is refused.

    PyTorch's ``dynamic``, ``backend``, ``mode`` and ``options`` choose how it generates kernels; glassgrad
    replays NumPy's, so they change nothing here (``mode`` is checked, and not given with ``options``, as
    PyTorch does). ``disable=True`` gives ``model`` back as it is.
    """
    check_options(mode, options)
    if disable:
        return model if model is not None else lambda function: function
    if model is None:
        return lambda function: _compiled(function, fullgraph)
    return _compiled(model, fullgraph)


def _compiled(model: Callable, fullgraph: bool) -> Any:
    """A module compiled is a module (:class:`~glassgrad.compiler.optimized_module.OptimizedModule`); anything
    else callable is a :class:`Compiled` function."""
    if not isinstance(model, type) and hasattr(type(model), "state_dict"):
        return OptimizedModule(model, fullgraph)
    return Compiled(model, fullgraph)


def disable(fn: Callable | None = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """``fn`` kept out of compiled code (PyTorch's ``torch.compiler.disable``, also a decorator): it runs, Python and
    all, at every call. A compiled step that calls it runs eagerly, saying so (PyTorch compiles the code around it;
    glassgrad's replay has no Python between its kernels). A compiled function or module given is its original.

    ``recursive`` is PyTorch's choice of whether the functions ``fn`` calls are compiled; here nothing inside ``fn``
    is, either way."""
    if fn is None:
        return lambda function: disable(function, recursive, reason=reason)
    if isinstance(fn, Compiled):
        return fn.function
    if isinstance(fn, OptimizedModule):
        return fn._orig_mod
    name = getattr(fn, "__qualname__", type(fn).__name__)
    why = f" ({reason})" if reason else ""

    @functools.wraps(fn)
    def run_eagerly(*args: Any, **kwargs: Any) -> Any:
        if is_compiling():
            note_unreplayable(f"'{name}' is marked torch.compiler.disable{why}: its Python must run at each call, "
                              "which a replay would not do")
        return fn(*args, **kwargs)

    return run_eagerly


def allow_in_graph(fn: Callable) -> Callable:
    """``fn`` itself (PyTorch's ``torch.compiler.allow_in_graph``: its ops are captured as they are, as every
    function's are here)."""
    return fn


def cudagraph_mark_step_begin() -> None:
    """Nothing to do: glassgrad records no CUDA graphs (PyTorch's marks where one training step begins)."""
