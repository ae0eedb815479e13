"""Engagement benchmark: the count model and the recommendations on one million posts, in one run.

    python -m bench.engagement [--posts 1000000] [--repeat 3] [--methods ...] [--reference-posts 100000]

Data (generated once in the engine, cached under bench/data/ by size): a warehouse file whose `marts.posts` holds
`--posts` posts of 40 accounts on 4 platforms over two years, with 7-day counters drawn around planted rate ratios
(content type, AI-edited origin, a best weekly slot per platform, questions) and a lognormal post effect, and a
text per post from a pool of templates, so the text features are real regular-expression work.

The methods, each run --repeat times in its own fresh process, in rotating order:

- duckdb-features: the plain-DuckDB limit: the post_features query run and its model columns fetched to Arrow,
  nothing fitted. No model can be cheaper than reading its inputs.
- insights-model: post_features, then EngagementModel().fit alone: the same job as statsmodels below.
- insights: the whole job of the plan report: post_features, one EngagementModel (its inputs without the time
  terms), recommend(...) (content type, slot and prompt per account, shrunk toward the platform), best_times(...)
  against that model (hour of week per account) and a Thompson-sampling mix of content types.
- statsmodels: what an analyst would otherwise write: the same features as a pandas frame, then
  statsmodels' GLM with the NB2 family at insights' dispersion, a formula with the same inputs and robust (HC0)
  intervals: the count model alone, no recommendations. A million posts do not fit its design matrices in a
  reasonable memory, so it runs on a second warehouse of --reference-posts posts (generated the same way), where
  insights runs too, for a ratio at the same size; with --statsmodels-full it also tries the full size, under a
  12 GB address-space cap.

Each process reports its in-process time and its peak resident set (VmHWM); the parent times the whole process.
The machine is noisy: the table shows medians. Results are written to bench/results/engagement-<time>.json.
"""

from __future__ import annotations

import argparse
import resource
import statistics
from pathlib import Path
from typing import Any

from bench.processes import Measured, measure, run_in_child, save_results

HERE = Path(__file__).resolve().parent
TEXTS = (
    "Stop wasting hours on reporting. Try it free today! #saas",
    "What if your team could close the books in a day?",
    "Behind the scenes at our spring offsite.",
    "New case study: how an agency doubled its demo bookings. Book a demo.",
    "Quick poll: how do you plan your week? Comments open.",
    "Our CEO's Monday fix: ten minutes to plan the whole week. Learn more at www.example.com",
    "Meet Dana, who runs customer success here 🚀 #team #culture",
    "Still doing invoices by hand? There's a better way. Link in bio.",
)


def warehouse(posts: int) -> Path:
    """The benchmark warehouse for `posts` posts, generated in DuckDB on first use."""
    import duckdb

    path = HERE / "data" / f"engagement-{posts}.duckdb"
    if path.exists():
        return path
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    con.execute("SELECT setseed(0.7)")
    con.execute("CREATE SCHEMA marts")
    texts = ", ".join("'" + t.replace("'", "''") + "'" for t in TEXTS)
    con.execute(
        f"""
        CREATE TABLE marts.posts AS
        WITH draws AS (
            SELECT
                i,
                ['facebook', 'instagram', 'linkedin', 'x'][1 + i % 4] AS platform,
                'acct' || (i % 40) AS account_id,
                TIMESTAMPTZ '2024-03-01 00:00:00+00' + to_seconds(CAST(floor(random() * 730 * 86400) AS BIGINT))
                    AS published_at,
                ['text', 'image', 'video', 'link', 'carousel'][1 + CAST(floor(random() * 5) AS INTEGER)]
                    AS content_type,
                ['human', 'ai', 'ai_edited'][1 + CAST(floor(random() * 3) AS INTEGER)] AS origin,
                [{texts}][1 + CAST(floor(random() * {len(TEXTS)}) AS INTEGER)] AS text,
                random() < 0.2 AS is_paid,
                random() AS u_model, random() AS u_version,
                sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS z_post,
                sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS z_imp,
                sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS z_count
            FROM range({posts}) AS t(i)
        ),
        rates AS (
            SELECT
                *,
                (0.01 + 0.0008 * (i % 40))
                    * CASE content_type WHEN 'image' THEN 1.3 WHEN 'video' THEN 1.8 WHEN 'link' THEN 0.8
                        WHEN 'carousel' THEN 1.5 ELSE 1.0 END
                    * CASE origin WHEN 'ai_edited' THEN 1.1 ELSE 1.0 END
                    * CASE WHEN isodow(published_at) = 1 + i % 4 AND hour(published_at) BETWEEN 12 AND 14
                        THEN 1.25 ELSE 1.0 END
                    * CASE WHEN contains(text, '?') THEN 1.15 ELSE 1.0 END
                    * exp(0.2 * z_post - 0.02) AS rate,
                round(1000 * (1 + i % 7) * CASE WHEN is_paid THEN 3 ELSE 1 END * exp(0.6 * z_imp - 0.18)) AS imp
            FROM draws
        )
        SELECT
            'p' || i AS post_id,
            platform,
            account_id,
            published_at,
            content_type,
            text,
            origin,
            CASE WHEN origin = 'human' THEN NULL WHEN u_model < 0.5 THEN 'model-a' ELSE 'model-b' END AS model,
            CASE WHEN origin = 'human' THEN NULL ELSE 'hook' END AS prompt_id,
            CASE WHEN origin = 'human' THEN NULL WHEN u_version < 0.5 THEN 'v1' ELSE 'v2' END AS prompt_version,
            'always-on' AS campaign,
            is_paid,
            TRUE AS is_7d_observed,
            imp AS impressions_7d,
            round(imp * 0.7) AS reach_7d,
            greatest(0, round(imp * rate + sqrt(imp * rate) * z_count)) AS likes_7d,
            0.0 AS comments_7d, 0.0 AS shares_7d, 0.0 AS saves_7d,
            0.0 AS clicks_7d, 0.0 AS video_views_7d, 0.0 AS followers_7d,
            imp AS impressions, greatest(0, round(imp * rate + sqrt(imp * rate) * z_count)) AS likes,
            0.0 AS comments, 0.0 AS shares, 0.0 AS saves, round(imp * 0.7) AS reach,
            0.0 AS clicks, 0.0 AS video_views, 0.0 AS followers
        FROM rates
        """
    )
    con.close()
    tmp.rename(path)
    return path


MODEL_COLUMNS = (
    "account, content_type, origin, model, prompt_version, is_paid, local_hour, local_weekday, text_length, "
    "n_hashtags, has_emoji, is_question, has_cta, has_link, engagements, exposure"
)


def _duckdb_features(path: str) -> dict[str, Any]:
    import duckdb

    from insights.engagement import post_features

    con = duckdb.connect(path, read_only=True)
    table = post_features(con).filter("exclusion IS NULL").select(MODEL_COLUMNS).to_arrow_table()
    return {"rows": table.num_rows}


def _insights_model(path: str) -> dict[str, Any]:
    import duckdb

    from insights.engagement import EngagementModel, post_features

    con = duckdb.connect(path, read_only=True)
    model = EngagementModel().fit(post_features(con))
    return {"rows": model.n_posts_, "video": model.rate_ratios_.get("content_type", "video").rate_ratio}


def _insights(path: str) -> dict[str, Any]:
    import duckdb

    from insights.engagement import TIMING_TERMS, EngagementModel, best_times, post_features
    from insights.recommend import recommend, thompson_allocation

    con = duckdb.connect(path, read_only=True)
    features = post_features(con)
    # as the plan report does: one count model (the hours are what best_times measures against it)
    model = EngagementModel(TIMING_TERMS).fit(features)
    recommendations = recommend(features)
    times = best_times(features, model=model)
    mix = thompson_allocation(recommendations.arms(choice="content_type"), min_probability=0.05)
    video = model.rate_ratios_.get("content_type", "video")
    return {
        "rows": model.n_posts_,
        "video": video.rate_ratio,
        "dispersion": model.dispersion_,
        "recommendations": len(recommendations.rows()),
        "best_times": len(times.rows()),
        "mix": len(mix.rows()),
    }


def _statsmodels(path: str, cap_gb: str) -> dict[str, Any]:
    import duckdb
    import numpy as np
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    from insights.engagement import post_features

    cap = int(float(cap_gb) * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    con = duckdb.connect(path, read_only=True)
    frame = post_features(con).filter("exclusion IS NULL").select(MODEL_COLUMNS).to_arrow_table().to_pandas()
    formula = (
        "engagements ~ C(account) + C(content_type, Treatment('text')) + C(origin, Treatment('human')) "
        "+ C(model) + C(prompt_version) + is_paid + C(local_hour) + C(local_weekday) + text_length + n_hashtags "
        "+ has_emoji + is_question + has_cta + has_link"
    )
    frame["model"] = frame["model"].fillna("(none)")
    frame["prompt_version"] = frame["prompt_version"].fillna("(none)")
    fit = smf.glm(formula, data=frame, family=sm.families.NegativeBinomial(alpha=0.04), exposure=frame["exposure"]).fit(
        cov_type="HC0"
    )
    video = float(np.exp(fit.params["C(content_type, Treatment('text'))[T.video]"]))
    return {"rows": len(frame), "video": video}


def child(method: str, path: str, cap_gb: str, report: str) -> None:
    work = {
        "duckdb-features": lambda: _duckdb_features(path),
        "insights-model": lambda: _insights_model(path),
        "insights": lambda: _insights(path),
        "statsmodels": lambda: _statsmodels(path, cap_gb),
    }[method]
    run_in_child(report, (), work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference-posts", type=int, default=100_000)
    parser.add_argument("--statsmodels-full", action="store_true")
    parser.add_argument(
        "--methods", nargs="+", default=["duckdb-features", "insights-model", "insights", "statsmodels"]
    )
    args = parser.parse_args()
    runs: list[tuple[str, int]] = []
    for method in args.methods:
        if method != "statsmodels":
            runs.append((method, args.posts))
        if method in ("insights-model", "insights", "statsmodels"):
            runs.append((method, args.reference_posts))
        if method == "statsmodels" and args.statsmodels_full:
            runs.append((method, args.posts))
    measured: dict[str, list[Measured]] = {}
    for i in range(args.repeat):
        for method, posts in runs[i % len(runs) :] + runs[: i % len(runs)]:
            label = f"{method} ({posts:,} posts)"
            result = measure("bench.engagement", [method, str(warehouse(posts)), "12"], label)
            measured.setdefault(label, []).append(result)
            print(f"{label}: {result.seconds:.2f} s, {result.peak_rss_mb:,.0f} MB, {result.result}", flush=True)
    print(f"\n{'method':<40} {'in-process s':>12} {'whole s':>9} {'peak MB':>9}")
    record: dict[str, Any] = {"posts": args.posts, "repeat": args.repeat, "methods": {}}
    for label, results in measured.items():
        seconds = statistics.median(r.seconds for r in results)
        whole = statistics.median(r.process_seconds for r in results)
        peak = statistics.median(r.peak_rss_mb for r in results)
        print(f"{label:<40} {seconds:>12.2f} {whole:>9.2f} {peak:>9,.0f}")
        record["methods"][label] = {
            "seconds": seconds,
            "process_seconds": whole,
            "peak_rss_mb": peak,
            "runs": [r.seconds for r in results],
            "result": results[-1].result,
        }
    save_results("engagement", record)


if __name__ == "__main__":
    main()
