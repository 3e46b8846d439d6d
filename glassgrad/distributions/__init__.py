"""``torch.distributions`` for glassgrad: probability distributions to sample from, score and compare.

Every density is written with glassgrad's ops, so ``log_prob``, ``entropy``, ``cdf`` and
``kl_divergence`` are differentiable in the parameters (REINFORCE's ``−log π(a|s)·R``, a VAE's KL term),
and ``rsample`` is the reparameterised draw through which gradients reach them.

* :mod:`.location_scale`: ``Normal``, ``Laplace``, ``Cauchy``, ``Gumbel``, ``Uniform``;
* :mod:`.positive`: ``Exponential``, ``LogNormal``, ``HalfNormal``, ``HalfCauchy``;
* :mod:`.discrete`: ``Categorical``, ``OneHotCategorical``, ``OneHotCategoricalStraightThrough``, ``Bernoulli``,
  ``Geometric``; :mod:`.mixture`: ``MixtureSameFamily``;
* :mod:`.gamma_family`: ``Gamma``, ``Chi2``, ``Beta``, ``Dirichlet``, ``StudentT``; :mod:`.gamma_ratios`:
  ``InverseGamma``, ``FisherSnedecor``; :mod:`.circular`: ``VonMises``;
* :mod:`.counts`: ``Poisson``, ``Binomial``, ``NegativeBinomial``, ``Multinomial``;
* :mod:`.powered`: ``Weibull``, ``Pareto``, ``Kumaraswamy``, ``GeneralizedPareto``;
* :mod:`.multivariate`: ``MultivariateNormal``, ``LowRankMultivariateNormal``; :mod:`.wishart`: ``Wishart``;
  :mod:`.lkj_cholesky`: ``LKJCholesky``; :mod:`.independent`: ``Independent``;
* :mod:`.transformed`: ``TransformedDistribution``, a distribution pushed through :mod:`.transforms` (``ExpTransform``,
  ``StickBreakingTransform``, …); :mod:`.constraint_registry`: ``biject_to``, ``transform_to``;
* :mod:`.relaxed`: ``RelaxedBernoulli``, ``LogitRelaxedBernoulli``, ``RelaxedOneHotCategorical``,
  ``ExpRelaxedCategorical``, ``LogisticNormal``; :mod:`.continuous_bernoulli`: ``ContinuousBernoulli``;
* :mod:`.kl`: ``kl_divergence`` and ``register_kl``; :mod:`.base`: ``Distribution``;
  :mod:`.constraints`: the sets values live in (each distribution's ``support``);
* :mod:`.kl_more`: the KL rules of the gamma family, the counts and the power-law families; :mod:`.utils`:
  ``probs_to_logits``, ``logits_to_probs``, ``clamp_probs``, ``lazy_property`` …;

Draws come from glassgrad's generator (:func:`glassgrad.manual_seed` repeats them); the same seed gives
other numbers than PyTorch's generator.

>>> import glassgrad as gg
>>> round(gg.distributions.Normal(0.0, 1.0).log_prob(gg.tensor(0.0)).item(), 4)   # −½ ln 2π
-0.9189
"""

import importlib
from types import ModuleType

from . import constraints, kl_more, transforms, utils  # noqa: F401  (importing kl_more registers its KL rules)
from .base import Distribution
from .circular import VonMises
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .counts import Binomial, Multinomial, NegativeBinomial, Poisson
from .discrete import Bernoulli, Categorical, Geometric, OneHotCategorical, OneHotCategoricalStraightThrough
from .gamma_family import Beta, Chi2, Dirichlet, Gamma, StudentT
from .gamma_ratios import FisherSnedecor, InverseGamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .lkj_cholesky import LKJCholesky
from .location_scale import Cauchy, Gumbel, Laplace, Normal, Uniform
from .mixture import MixtureSameFamily
from .multivariate import LowRankMultivariateNormal, MultivariateNormal
from .positive import Exponential, HalfCauchy, HalfNormal, LogNormal
from .powered import GeneralizedPareto, Kumaraswamy, Pareto, Weibull
from .relaxed import (
    ExpRelaxedCategorical,
    LogisticNormal,
    LogitRelaxedBernoulli,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
)
from .transformed import TransformedDistribution
from .transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .wishart import Wishart

__all__ = ["Bernoulli", "Categorical", "Cauchy", "Distribution", "Exponential", "Geometric", "Gumbel", "HalfNormal",
           "Independent", "Laplace", "LogNormal", "LowRankMultivariateNormal", "MultivariateNormal", "Normal",
           "OneHotCategorical", "Uniform", "constraints", "kl_divergence", "register_kl"]
__all__ += ["Beta", "Binomial", "Chi2", "Dirichlet", "Gamma", "Kumaraswamy", "Multinomial", "NegativeBinomial",
            "Pareto", "Poisson", "StudentT", "Weibull"]
__all__ += ["ContinuousBernoulli", "ExpRelaxedCategorical", "LogisticNormal", "LogitRelaxedBernoulli",
            "RelaxedBernoulli", "RelaxedOneHotCategorical", "TransformedDistribution", "biject_to", "transform_to",
            "transforms"]
__all__ += ["AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform", "CorrCholeskyTransform",
            "CumulativeDistributionTransform", "ExpTransform", "IndependentTransform", "LowerCholeskyTransform",
            "PositiveDefiniteTransform", "PowerTransform", "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform",
            "SoftplusTransform", "StackTransform", "StickBreakingTransform", "TanhTransform", "Transform",
            "identity_transform"]  # the transforms, importable from here as from torch.distributions
__all__ += ["FisherSnedecor", "GeneralizedPareto", "HalfCauchy", "InverseGamma", "LKJCholesky", "MixtureSameFamily",
            "OneHotCategoricalStraightThrough", "VonMises", "Wishart"]

#: PyTorch's module of each distribution → glassgrad's module that holds it, so that the full path a tutorial
#: writes works too: ``torch.distributions.normal.Normal(0.0, 1.0)``, ``from torch.distributions.categorical
#: import Categorical``.
TORCH_MODULES = {
    "bernoulli": "discrete", "categorical": "discrete", "geometric": "discrete", "one_hot_categorical": "discrete",
    "normal": "location_scale", "uniform": "location_scale", "cauchy": "location_scale", "gumbel": "location_scale",
    "laplace": "location_scale", "exponential": "positive", "half_cauchy": "positive", "half_normal": "positive",
    "log_normal": "positive", "beta": "gamma_family", "chi2": "gamma_family", "dirichlet": "gamma_family",
    "gamma": "gamma_family", "studentT": "gamma_family", "fishersnedecor": "gamma_ratios",
    "inverse_gamma": "gamma_ratios", "binomial": "counts", "multinomial": "counts", "negative_binomial": "counts",
    "poisson": "counts", "generalized_pareto": "powered", "kumaraswamy": "powered", "pareto": "powered",
    "weibull": "powered", "multivariate_normal": "multivariate", "lowrank_multivariate_normal": "multivariate",
    "logistic_normal": "relaxed", "relaxed_bernoulli": "relaxed", "relaxed_categorical": "relaxed",
    "continuous_bernoulli": "continuous_bernoulli", "distribution": "base", "independent": "independent",
    "mixture_same_family": "mixture", "transformed_distribution": "transformed", "von_mises": "circular",
    "lkj_cholesky": "lkj_cholesky",
}


def __getattr__(name: str) -> ModuleType:
    """``gg.distributions.normal`` and the other PyTorch module names of :data:`TORCH_MODULES`."""
    if name in TORCH_MODULES:
        return importlib.import_module(f"{__name__}.{TORCH_MODULES[name]}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
