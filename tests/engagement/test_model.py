"""The count model: its fit pinned to statsmodels, the planted demo rate ratios recovered, scikit-learn's conventions."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pytest

from insights.engagement import EngagementModel, post_features
from insights.engagement.design import Categorical, Encoding
from insights.engagement.glm import DenseDesign, fit_glm
from insights.errors import NotFittedError

if TYPE_CHECKING:
    from insights.demo import DemoSummary

sm = pytest.importorskip("statsmodels.api")


def _synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    x = rng.normal(size=n)
    design = np.column_stack([np.ones(n), group == 1, group == 2, x]).astype(float)
    exposure = rng.lognormal(6, 0.5, n)
    mu = exposure * 0.02 * np.exp(design @ np.array([0.0, 0.3, -0.2, 0.1]))
    y = rng.negative_binomial(1 / 0.1, 1 / (1 + 0.1 * mu)).astype(float)
    return design, y, exposure


def test_negative_binomial_matches_statsmodels_maximum_likelihood() -> None:
    design, y, exposure = _synthetic(3000, 1)
    fit = fit_glm(DenseDesign(design), y, np.log(exposure))
    # statsmodels' discrete NB2 maximises the same likelihood jointly in (beta, alpha)
    reference = sm.NegativeBinomial(y, design, exposure=exposure).fit(disp=0, method="newton", tol=1e-12)
    np.testing.assert_allclose(fit.coef, reference.params[:4], rtol=1e-7)
    assert fit.alpha == pytest.approx(reference.params[4], rel=1e-6)
    assert fit.log_likelihood == pytest.approx(reference.llf, rel=1e-10)
    # at that alpha, the GLM's expected-information covariance and deviance are ours
    glm = sm.GLM(y, design, family=sm.families.NegativeBinomial(alpha=fit.alpha), exposure=exposure).fit()
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_model)), glm.bse, rtol=1e-7)
    assert fit.deviance == pytest.approx(glm.deviance, rel=1e-9)
    robust = sm.GLM(y, design, family=sm.families.NegativeBinomial(alpha=fit.alpha), exposure=exposure)
    np.testing.assert_allclose(
        np.sqrt(np.diag(fit.cov_robust)), robust.fit(method="IRLS", cov_type="HC0").bse, rtol=1e-2
    )


def test_poisson_matches_statsmodels() -> None:
    design, y, exposure = _synthetic(2000, 2)
    fit = fit_glm(DenseDesign(design), y, np.log(exposure), family="poisson")
    glm = sm.GLM(y, design, family=sm.families.Poisson(), exposure=exposure).fit()
    np.testing.assert_allclose(fit.coef, glm.params, rtol=1e-9)
    assert fit.alpha == 0.0
    assert fit.deviance == pytest.approx(glm.deviance, rel=1e-9)


def test_level_sums_give_the_dense_products() -> None:
    """The design held as level codes computes X'WX, X'v and X beta exactly as the dense matrix does."""
    rng = np.random.default_rng(5)
    n = 500
    data = {
        "account": Categorical(rng.integers(0, 4, n).astype(np.int32), ("a", "b", "c", "d")),
        "content_type": Categorical(rng.integers(0, 3, n).astype(np.int32), ("text", "video", "image")),
        "is_paid": rng.random(n) < 0.3,
        "text_length": rng.integers(0, 300, n).astype(float),
    }
    encoding = Encoding.learn(data, list(data), {"content_type": "text"})
    design = encoding.design(data, n)
    dense = np.zeros((n, design.p))
    dense[:, 0] = 1
    for j, column in enumerate(encoding.columns, 1):
        if column.level is None:
            scale = 100.0 if column.term == "text_length" else 1.0
            dense[:, j] = np.asarray(data[column.term], dtype=float) / scale
        else:
            values = data[column.term]
            dense[:, j] = np.array(values.levels)[values.codes] == column.level
    w, v, beta = rng.random(n), rng.normal(size=n), rng.normal(size=design.p)
    np.testing.assert_allclose(design.cross(w), dense.T @ (dense * w[:, None]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(design.transpose_times(v), dense.T @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(design.times(beta), dense @ beta, rtol=1e-12, atol=1e-12)
    assert encoding.reference("content_type") == "text"


def _frame_con(rows: dict[str, np.ndarray]) -> duckdb.DuckDBPyRelation:
    import pyarrow as pa

    con = duckdb.connect()
    return con.from_arrow(pa.table(rows))


def _planted_text_posts(n: int, seed: int) -> tuple[duckdb.DuckDBPyRelation, dict[str, float]]:
    """Posts whose engagement rate carries planted ratios for text features and paid, nothing else."""
    rng = np.random.default_rng(seed)
    planted = {"is_question": 1.2, "has_cta": 0.9, "is_paid": 1.0, "n_hashtags": 1.05}
    question = rng.random(n) < 0.3
    cta = rng.random(n) < 0.5
    paid = rng.random(n) < 0.2
    hashtags = rng.integers(0, 5, n)
    exposure = rng.lognormal(7, 0.6, n) * np.where(paid, 3.0, 1.0)
    rate = 0.03 * np.where(question, 1.2, 1.0) * np.where(cta, 0.9, 1.0) * 1.05**hashtags
    rate *= rng.lognormal(-0.02, 0.2, n)
    y = rng.poisson(exposure * rate).astype(float)
    account = np.where(rng.random(n) < 0.5, "x/a", "x/b")
    relation = _frame_con(
        {
            "account": account,
            "is_paid": paid,
            "is_question": question,
            "has_cta": cta,
            "n_hashtags": hashtags,
            "engagements": y,
            "exposure": exposure,
        }
    )
    return relation, planted


def test_planted_text_and_paid_ratios_are_recovered() -> None:
    relation, planted = _planted_text_posts(4000, 3)
    model = EngagementModel(["account", "is_paid", "is_question", "has_cta", "n_hashtags"], alpha=0.01).fit(relation)
    for term, ratio in planted.items():
        row = model.rate_ratios_.get(term)
        assert row.low < ratio < row.high, (term, row)
    # paid triples impressions but not the rate: the exposure offset keeps it at 1
    assert model.rate_ratios_.get("is_paid").rate_ratio == pytest.approx(1.0, abs=0.05)


def test_demo_rate_ratios_recover_the_planted_ones(
    demo_warehouse: tuple[Path, DemoSummary], demo_con: duckdb.DuckDBPyConnection
) -> None:
    truth = demo_warehouse[1].truth.engagement
    model = EngagementModel(alpha=0.01).fit(post_features(demo_con))
    ratios = model.rate_ratios_
    checked = 0
    for level, ratio in truth.content_type_ratio.items():
        if level == "text":
            continue
        row = ratios.get("content_type", level)
        assert row.reference == "text"
        assert row.low < ratio < row.high, row
        checked += 1
    for level in ("ai", "ai_edited"):
        row = ratios.get("origin", level)
        assert row.low < truth.origin_ratio[level] < row.high, row
        checked += 1
    paid = ratios.get("is_paid")
    assert paid.low < 1.0 < paid.high, paid
    assert checked == 6
    # the model column "(none)" is the human posts again: reported as aliased, not estimated
    assert "model=(none)" in ratios.aliased
    assert model.converged_
    assert model.dispersion_ == pytest.approx(truth.post_noise_sigma**2, rel=0.5)
    # content type matters more than anything but the account in the planted data
    assert [t.term for t in model.term_tests_.tests[:2]] == ["account", "content_type"]
    assert "video" in str(ratios) and "Engagement rate ratios" in ratios._repr_html_()


def test_predictions_add_up_to_the_observed_engagement(demo_con: duckdb.DuckDBPyConnection) -> None:
    features = post_features(demo_con).order("post_id")
    model = EngagementModel(family="poisson").fit(features)
    expected = model.predict(features)
    observed = features.filter("exclusion IS NULL").aggregate("sum(round(engagements))").fetchall()[0][0]
    # a Poisson fit with an intercept reproduces the total exactly (its score equation for the intercept)
    assert expected.sum() == pytest.approx(observed, rel=1e-8)
    rates = model.predict_rate(features)
    exposure = np.array(features.filter("exclusion IS NULL").select("exposure").fetchnumpy()["exposure"])
    np.testing.assert_allclose(rates * exposure, expected, rtol=1e-12)


def test_scikit_learn_conventions() -> None:
    sklearn_base = pytest.importorskip("sklearn.base")
    relation, _ = _planted_text_posts(500, 4)
    model = EngagementModel(["account", "is_question"], family="poisson")
    assert not hasattr(model, "coef_")
    with pytest.raises(NotFittedError, match=r"not fitted yet: call EngagementModel.fit"):
        model.predict(relation)
    clone = sklearn_base.clone(model)
    assert clone.get_params() == model.get_params() and clone is not model
    assert model.fit(relation) is model
    assert all(hasattr(model, name) for name in ("coef_", "cov_", "rate_ratios_", "n_posts_", "dispersion_"))
    assert model.n_posts_ == 500
    assert model.set_params(family="negative_binomial").family == "negative_binomial"
    # a level never seen at fit time reads as the reference level
    unseen = _frame_con({"account": np.array(["x/new"]), "is_question": np.array([False]), "exposure": [100.0]})
    assert math.isfinite(float(model.predict(unseen)[0]))


def test_lifetime_counters_and_a_frame_work_like_a_relation(demo_con: duckdb.DuckDBPyConnection) -> None:
    pd = pytest.importorskip("pandas")
    from insights.engagement import EngagementDefinition

    features = post_features(demo_con, engagement=EngagementDefinition(age="lifetime"))
    frame = features.to_arrow_table().to_pandas()
    assert isinstance(frame, pd.DataFrame)
    terms = ["account", "content_type"]
    a = EngagementModel(terms).fit(features)
    b = EngagementModel(terms).fit(frame)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-9)
    # lifetime counters are read for every post with a snapshot, young or not
    assert a.n_posts_ > EngagementModel(terms).fit(post_features(demo_con)).n_posts_
