"""The engagement model on the two real exports shipped in data/samples, and the notebook that shows it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

import insights
from insights.engagement import EngagementDefinition, EngagementModel, engagement_rates, post_features

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
UCI = EngagementDefinition(counters=("likes", "comments", "shares"), age="lifetime")
LIVE = EngagementDefinition(counters=("likes", "comments", "shares"), denominator="posts", age="lifetime")


@pytest.fixture(scope="module")
def samples_con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    db = tmp_path_factory.mktemp("samples") / "samples.duckdb"
    insights.ingest(
        "posts", SAMPLES / "facebook_metrics" / "dataset_Facebook.csv", db=db, mapping="uci_facebook_metrics"
    )
    insights.ingest(
        "posts", SAMPLES / "facebook_live_sellers" / "Live.csv", db=db, mapping="facebook_live_sellers", build=True
    )
    return insights.connect(db, read_only=True)


def test_uci_content_type_is_the_strongest_input_and_paid_buys_reach_not_rate(
    samples_con: duckdb.DuckDBPyConnection,
) -> None:
    posts = post_features(samples_con, engagement=UCI).filter("account_id = 'uci-cosmetics-brand'")
    model = EngagementModel(["content_type", "is_paid", "local_weekday", "local_hour"]).fit(posts)
    assert model.n_posts_ == 500
    # Moro, Rita & Vala (2016) found the type of post the most relevant input; so does the joint Wald test here
    assert model.term_tests_.tests[0].term == "content_type"
    photo = model.rate_ratios_.get("content_type", "image")
    assert photo.low > 1.3, photo  # photos engage more per impression than status updates (1.82x, 1.54-2.15)
    paid = model.rate_ratios_.get("is_paid")
    assert paid.low < 1 < paid.high, paid
    # paid posts reach more people: 1.4x the impressions on average
    reach = posts.aggregate("avg(exposure) FILTER (WHERE is_paid) / avg(exposure) FILTER (WHERE NOT is_paid)")
    assert reach.fetchall()[0][0] > 1.2
    assert any("(rare)" in note for note in model.rate_ratios_.notes)  # 7 videos and the quiet hours pooled


def test_live_sellers_videos_engage_most_on_the_same_page(samples_con: duckdb.DuckDBPyConnection) -> None:
    posts = post_features(samples_con, engagement=LIVE, timezone="Asia/Bangkok").filter(
        "account_id <> 'uci-cosmetics-brand'"
    )
    rates = engagement_rates(posts, by=["content_type"], engagement=LIVE)
    per_type = {g.group[0]: g for g in rates.groups}
    assert sum(g.n_posts for g in rates.groups) == 6997
    # per post, the ratio of sums and the mean of ratios are the same number
    assert per_type["video"].ratio_of_sums == pytest.approx(per_type["video"].mean_of_ratios)
    model = EngagementModel(["account", "content_type", "local_hour", "local_weekday"]).fit(posts)
    assert model.term_tests_.tests[0].term == "content_type"
    video = model.rate_ratios_.get("content_type", "video")
    photo = model.rate_ratios_.get("content_type", "image")
    assert video.low > 3 and photo.high < 1, (video, photo)
    weekday = next(t for t in model.term_tests_.tests if t.term == "local_weekday")
    assert weekday.p_value > 0.05


@pytest.mark.slow
def test_the_samples_notebook_runs_on_a_real_kernel(tmp_path: Path) -> None:
    papermill = pytest.importorskip("papermill")
    out = tmp_path / "out.ipynb"
    # an exploration notebook, not a report: no parameters cell; it reads data/samples from the repository root
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "engagement_samples.ipynb"),
        str(out),
        progress_bar=False,
        kernel_name="python3",
        cwd=str(ROOT),
    )
    cells = json.loads(out.read_text())["cells"]
    outputs = [o for c in cells for o in c.get("outputs", [])]
    assert [o for o in outputs if o["output_type"] == "error"] == []
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert html.count("Engagement rate ratios") == 2
    assert "Which inputs matter" in html
