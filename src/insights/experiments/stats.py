"""Low-level statistics on summary statistics: the public door for data already aggregated.

One import point for the records, the tests, the corrections and the SRM check; each concept lives in its own module
(summaries, frequentist, corrections, srm).
"""

from insights.experiments.corrections import CORRECTION_METHODS, adjust_pvalues
from insights.experiments.frequentist import EffectResult, cuped, proportion_z_test, welch_test
from insights.experiments.srm import SrmResult, srm_test
from insights.experiments.summaries import CovarianceStats, SampleStats

__all__ = [
    "CORRECTION_METHODS",
    "CovarianceStats",
    "EffectResult",
    "SampleStats",
    "SrmResult",
    "adjust_pvalues",
    "cuped",
    "proportion_z_test",
    "srm_test",
    "welch_test",
]
