"""The ground truth planted in the demo data: every effect the generator builds in, with its size.

Each record holds the generator's parameters (their defaults are the planted values) and, where an
effect can only be stated for one concrete data set, the exact expected value for that data set
(fields documented as "for this data set"). docs/demo-data.md lists every number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _table(**values: float) -> Mapping[str, float]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True, kw_only=True)
class PostingSlot:
    """A weekly slot in UTC: `weekday` 0 is Monday; hours `start_hour` <= hour < `end_hour`."""

    weekday: int
    start_hour: int
    end_hour: int

    def contains(self, ts: datetime) -> bool:
        """Whether a UTC time falls in the slot."""
        return ts.weekday() == self.weekday and self.start_hour <= ts.hour < self.end_hour

    @property
    def label(self) -> str:
        """For example 'Tue 08:00-11:00 UTC'."""
        return f"{WEEKDAYS[self.weekday]} {self.start_hour:02d}:00-{self.end_hour:02d}:00 UTC"


@dataclass(frozen=True, kw_only=True)
class Account:
    """A social account: its platform, share of posts and baselines.

    `engagement_rate` is the expected 7-day engagement rate of an organic, human-written text post
    outside the platform's best slot; `impressions` the mean 7-day impressions of an organic post.
    """

    account_id: str
    platform: str
    post_share: float
    engagement_rate: float
    impressions: float


ACCOUNTS = (
    Account(account_id="brightloop", platform="facebook", post_share=0.17, engagement_rate=0.030, impressions=3000),
    Account(
        account_id="brightloop.eu",
        platform="facebook",
        post_share=0.08,
        engagement_rate=0.024,
        impressions=1200,
    ),
    Account(
        account_id="brightloop",
        platform="instagram",
        post_share=0.18,
        engagement_rate=0.042,
        impressions=5000,
    ),
    Account(
        account_id="brightloop.life",
        platform="instagram",
        post_share=0.08,
        engagement_rate=0.036,
        impressions=1800,
    ),
    Account(
        account_id="brightloop-hq",
        platform="linkedin",
        post_share=0.17,
        engagement_rate=0.028,
        impressions=2500,
    ),
    Account(
        account_id="brightloop-careers",
        platform="linkedin",
        post_share=0.06,
        engagement_rate=0.022,
        impressions=900,
    ),
    Account(account_id="brightloop", platform="x", post_share=0.17, engagement_rate=0.015, impressions=2000),
    Account(account_id="brightloop_dev", platform="x", post_share=0.09, engagement_rate=0.012, impressions=600),
)


@dataclass(frozen=True, kw_only=True)
class EngagementTruth:
    """Engagement of posts: who posted what, when, and how that multiplies the engagement rate.

    Engagement rate = (likes + comments + shares + saves) / impressions, read at the 7-day snapshot.
    Expected rate of a post = account baseline x content-type ratio x origin ratio x (best-slot ratio
    if published in its platform's best slot). Each post's rate also carries a mean-one lognormal
    factor with `post_noise_sigma`, and counts are Poisson given the rate.
    """

    accounts: tuple[Account, ...] = ACCOUNTS
    snapshot_hours: tuple[int, ...] = (1, 24, 72, 168, 336, 672)
    rate_age_hours: int = 168
    content_mix: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: MappingProxyType(
            {
                "facebook": _table(text=0.15, image=0.30, video=0.20, link=0.20, carousel=0.15),
                "instagram": _table(image=0.40, video=0.30, carousel=0.30),
                "linkedin": _table(text=0.25, image=0.25, video=0.15, link=0.20, carousel=0.15),
                "x": _table(text=0.40, image=0.30, video=0.15, link=0.15),
            }
        )
    )
    content_type_ratio: Mapping[str, float] = field(
        default_factory=lambda: _table(text=1.0, image=1.3, video=1.8, link=0.8, carousel=1.5)
    )
    origin_mix: Mapping[str, float] = field(default_factory=lambda: _table(human=0.45, ai=0.30, ai_edited=0.25))
    origin_ratio: Mapping[str, float] = field(default_factory=lambda: _table(human=1.0, ai=1.0, ai_edited=1.1))
    best_slots: Mapping[str, PostingSlot] = field(
        default_factory=lambda: MappingProxyType(
            {
                "facebook": PostingSlot(weekday=2, start_hour=12, end_hour=15),
                "instagram": PostingSlot(weekday=3, start_hour=18, end_hour=21),
                "linkedin": PostingSlot(weekday=1, start_hour=8, end_hour=11),
                "x": PostingSlot(weekday=0, start_hour=12, end_hour=15),
            }
        )
    )
    best_slot_ratio: float = 1.25
    best_slot_share: float = 0.12
    post_noise_sigma: float = 0.2
    paid_share: float = 0.20
    paid_impressions_ratio: float = 3.0
    impressions_sigma: float = 0.6
    saturation_days: float = 2.0
    engagement_split: Mapping[str, float] = field(
        default_factory=lambda: _table(likes=0.70, comments=0.12, shares=0.10, saves=0.08)
    )
    click_rate: Mapping[str, float] = field(
        default_factory=lambda: _table(text=0.004, image=0.005, video=0.004, link=0.020, carousel=0.006)
    )
    video_view_rate: float = 0.45
    follow_rate: float = 0.0008

    def account(self, account_id: str, platform: str) -> Account:
        """The account with this id on this platform."""
        for a in self.accounts:
            if a.account_id == account_id and a.platform == platform:
                return a
        raise KeyError((account_id, platform))

    def expected_rate(
        self, account_id: str, platform: str, content_type: str, origin: str, in_best_slot: bool
    ) -> float:
        """Expected 7-day engagement rate of a post with these attributes.

        >>> EngagementTruth().expected_rate("brightloop", "facebook", "video", "ai_edited", False)
        0.0594
        """
        rate = self.account(account_id, platform).engagement_rate
        rate *= self.content_type_ratio[content_type] * self.origin_ratio[origin]
        if in_best_slot:
            rate *= self.best_slot_ratio
        return round(rate, 12)


@dataclass(frozen=True, kw_only=True)
class PromptTruth:
    """AI posts drafted with one prompt version bring leads that qualify more often.

    A chatbot lead whose session started on a post with this `prompt_id` and `prompt_version`
    reaches mql with probability `qualify_ratio` times the usual one (so P(mql) per chat session
    from such a post is also `qualify_ratio` times that of other sessions).
    """

    prompt_id: str = "hook"
    prompt_version: str = "v2"
    qualify_ratio: float = 1.5
    models: Mapping[str, float] = field(
        default_factory=lambda: _table(**{"gpt-4o-mini": 0.45, "claude-3-5-sonnet": 0.35, "llama-3.1-70b": 0.20})
    )
    prompt_mix: Mapping[str, float] = field(
        default_factory=lambda: _table(hook=0.40, benefit=0.25, question=0.20, story=0.15)
    )
    hook_v2_share: float = 0.7
    n_posts: int = 0  #: for this data set: posts drafted with the prompt


@dataclass(frozen=True, kw_only=True)
class FunnelTruth:
    """The chatbot funnel, per session.

    Steps: session_start -> the user sends a message (`message_rate`) -> the bot understands the
    first message (`recognised_rate`, its first reply is not a fallback) -> the user leaves contact
    details, event lead_captured (`capture_rate` for an average user without the treatment bot) ->
    the lead reaches mql (`LeadTruth.qualify_rate`). A conversation the bot does not understand
    stays misunderstood: every bot reply in it is a fallback.
    """

    message_rate: float = 0.85
    intent_mix: Mapping[str, float] = field(
        default_factory=lambda: _table(pricing=0.35, demo_request=0.25, support=0.25, other=0.15)
    )
    fallback_rate: Mapping[str, float] = field(
        default_factory=lambda: _table(pricing=0.05, demo_request=0.08, support=0.20, other=0.40)
    )
    capture_rate: float = 0.12
    mean_questions: float = 3.5
    handoff_rate_understood: float = 0.05
    handoff_rate_fallback: float = 0.35
    csat_response_rate: float = 0.35
    csat_probs_understood: tuple[float, ...] = (0.03, 0.05, 0.12, 0.35, 0.45)
    csat_probs_fallback: tuple[float, ...] = (0.25, 0.25, 0.25, 0.15, 0.10)
    post_session_share: float = 0.80
    latency_median_ms: float = 900.0
    #: for this data set: sessions generated
    n_sessions: int = 0
    #: for this data set: expected P(lead_captured | understood) over all its sessions (user mix, treatment)
    expected_capture_rate: float = 0.0

    @property
    def recognised_rate(self) -> float:
        """P(first bot reply is not a fallback | the user sent a message), from the intent mix."""
        return round(sum(w * (1.0 - self.fallback_rate[i]) for i, w in self.intent_mix.items()), 12)

    @property
    def csat_mean_understood(self) -> float:
        """Mean CSAT (1-5) in conversations the bot understood."""
        return round(sum((k + 1) * p for k, p in enumerate(self.csat_probs_understood)), 12)

    @property
    def csat_mean_fallback(self) -> float:
        """Mean CSAT (1-5) in conversations the bot did not understand."""
        return round(sum((k + 1) * p for k, p in enumerate(self.csat_probs_fallback)), 12)


@dataclass(frozen=True, kw_only=True)
class ExperimentTruth:
    """The A/B test of a new bot prompt on lead capture, randomised per user.

    Users are assigned 50/50 at their first session on or after `start`; every session of a
    treatment user from then on runs the treatment bot, whose P(lead_captured | understood) is
    `capture_ratio` times the control's and whose latency is `latency_ratio` times higher.
    Outcome: the user has a lead_captured event in [start, end). Covariate: the user's number of
    sessions in [pre_period_start, start). Users differ in visit frequency and in readiness to
    buy (capture probability grows with visit frequency to the power `propensity_power`), so the
    covariate really predicts the outcome.
    """

    experiment_id: str = "exp-bot-prompt-v2"
    control: str = "control"
    treatment: str = "treatment"
    assignment_prob: float = 0.5
    unit_type: str = "user"
    capture_ratio: float = 1.25
    latency_ratio: float = 1.3
    control_bot_version: str = "leadbot-3.4"
    treatment_bot_version: str = "leadbot-3.4-prompt-v2"
    start_day: int = 35
    pre_period_days: int = 28
    propensity_power: float = 0.8
    activity_shape: float = 0.25
    users_per_session: float = 1.0
    start: datetime
    end: datetime
    pre_period_start: datetime
    #: for this data set: users assigned to each variant
    n_control: int = 0
    n_treatment: int = 0
    #: for this data set: expected share of the assigned users with a lead captured if all of them
    #: had the control bot (the treatment bot); the estimand of the test, whoever drew which variant
    expected_control_rate: float = 0.0
    expected_treatment_rate: float = 0.0
    #: for this data set: expected correlation of the covariate with the outcome, as assigned
    covariate_correlation: float = 0.0
    #: for this data set: expected P(lead_captured | understood) of the sessions on or after
    #: `start` of each variant's users (their ratio is `capture_ratio` up to the users' mix)
    expected_control_session_rate: float = 0.0
    expected_treatment_session_rate: float = 0.0

    @property
    def expected_relative_lift(self) -> float:
        """Treatment rate / control rate - 1, per user."""
        return self.expected_treatment_rate / self.expected_control_rate - 1.0

    @property
    def expected_variance_reduction(self) -> float:
        """Share of the outcome's variance CUPED with the covariate removes (the correlation squared)."""
        return self.covariate_correlation**2


@dataclass(frozen=True, kw_only=True)
class BrokenSplitTruth:
    """A session-level A/A test of a new welcome message whose logging loses treatment exposures.

    Every chat session that starts in [start, end) is randomised, treatment with probability
    `assignment_prob`; the variant changes nothing in the conversation (no effect on any event).
    But each treatment assignment is independently never logged with probability `lost_share`, so
    the assignments hold fewer treatment sessions than planned: a sample ratio mismatch. The
    expected logged treatment share is `expected_treatment_share`; `srm_statistic` and
    `srm_p_value` are the chi-square test (1 df) of the counts written against `planned_weights`.
    """

    experiment_id: str = "exp-welcome-message"
    control: str = "control"
    treatment: str = "treatment"
    assignment_prob: float = 0.5
    unit_type: str = "session"
    lost_share: float = 0.2
    start_day: int = 63
    start: datetime
    end: datetime
    #: for this data set: sessions randomised to each variant (what a correct logger would write)
    n_planned_control: int = 0
    n_planned_treatment: int = 0
    #: for this data set: treatment assignments never logged
    n_lost: int = 0
    #: for this data set: assignment rows written per variant
    n_control: int = 0
    n_treatment: int = 0
    #: for this data set: chi-square statistic and p-value of (n_control, n_treatment) against
    #: `planned_weights`, as `insights.experiments.srm_test` computes them
    srm_statistic: float = 0.0
    srm_p_value: float = 1.0

    @property
    def planned_weights(self) -> tuple[float, float]:
        """The planned (control, treatment) split."""
        return (1.0 - self.assignment_prob, self.assignment_prob)

    @property
    def expected_treatment_share(self) -> float:
        """Expected treatment share of the logged assignments: p (1 - lost) / (1 - p lost).

        >>> round(BrokenSplitTruth(start=datetime(2026, 2, 2), end=datetime(2026, 3, 2)).expected_treatment_share, 4)
        0.4444
        """
        p, lost = self.assignment_prob, self.lost_share
        return p * (1.0 - lost) / (1.0 - p * lost)


@dataclass(frozen=True, kw_only=True)
class LeadTruth:
    """Leads move new -> mql -> sql -> opportunity -> won | lost.

    From each stage a lead advances with the stage's probability. A lead that stops at new, mql or
    sql is marked lost later with probability `disqualify_rate`; an opportunity always closes, won
    with probability `won_rate`. Each step takes a uniform delay within `delay_days`, so a step
    whose time falls after the data's end is not in the data yet. Won value is lognormal.
    """

    qualify_rate: Mapping[str, float] = field(default_factory=lambda: _table(chatbot=0.40, form=0.30, event=0.50))
    sql_rate: float = 0.50
    opportunity_rate: float = 0.60
    won_rate: float = 0.35
    disqualify_rate: float = 0.50
    delay_days: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: MappingProxyType(
            {
                "mql": (1 / 24, 3.0),
                "sql": (1.0, 7.0),
                "opportunity": (2.0, 14.0),
                "won": (7.0, 21.0),
                "lost": (3.0, 14.0),
            }
        )
    )
    won_value_median: float = 2400.0
    won_value_sigma: float = 0.7
    form_leads_per_session: float = 0.04
    event_leads_per_session: float = 0.015
    #: for this data set: leads created per source
    n_leads: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def won_value_mean(self) -> float:
        """Mean won value: median x exp(sigma^2 / 2)."""
        import math

        return self.won_value_median * math.exp(self.won_value_sigma**2 / 2)


#: the rule-based attribution models whose expected credits `AttributionTruth` states
ATTRIBUTION_MODELS = ("first_touch", "last_touch", "linear", "position_based")


@dataclass(frozen=True, kw_only=True)
class AttributionTruth:
    """Which posts the chatbot leads come from, as `insights.leads.journeys` builds their journeys.

    A session's chance of ending in a lead does not depend on the post it started on (only on the user and the
    bot), so every lead's journey, and the credit a rule-based model gives each platform, follows from the planned
    sessions. A journey is the user's sessions in the `lookback_days` before the lead's session, after the user's
    previous lead. The expected credit of a platform is the sum over sessions of P(lead in the session) times the
    platform's credit in the journey the session would end, averaged exactly over where the previous lead fell
    (the earlier sessions' capture draws are independent). `position_weights` are those of position_based.

    Qualified leads: a chatbot lead from a hook-v2 post (`PromptTruth`) reaches mql `qualify_ratio` times as often,
    and the mql change is in the data only when it falls before the end (the lead's creation is taken at its
    session's start: it comes minutes later, which moves a share by less than 1e-4).
    """

    lookback_days: float = 30.0
    position_weights: tuple[float, float, float] = (0.4, 0.2, 0.4)
    #: for this data set: model (ATTRIBUTION_MODELS) -> platform of the entry post, or 'direct' -> expected
    #: chatbot leads credited
    expected_lead_credit: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: MappingProxyType({}))
    #: for this data set: expected chatbot leads, and those whose session started on a prompt post (hook v2)
    expected_leads: float = 0.0
    expected_prompt_leads: float = 0.0
    #: for this data set: the same, counting only leads whose mql change is in the data
    expected_qualified: float = 0.0
    expected_prompt_qualified: float = 0.0

    def expected_share(self, model: str, platform: str) -> float:
        """Expected share of the chatbot leads a model credits to a platform ('direct': sessions without a post)."""
        credit = self.expected_lead_credit[model]
        return credit.get(platform, 0.0) / sum(credit.values())

    @property
    def prompt_lead_share(self) -> float:
        """Expected share of the chatbot leads whose (last) session started on a hook-v2 post."""
        return self.expected_prompt_leads / self.expected_leads

    @property
    def prompt_qualified_share(self) -> float:
        """The same share among the leads that show mql by the end: higher, by the planted qualify ratio."""
        return self.expected_prompt_qualified / self.expected_qualified


@dataclass(frozen=True, kw_only=True)
class PiiTruth:
    """Raw personal data written into the files: none of it may survive ingestion.

    Emails and phones appear in chat texts and in the leads' email/phone columns; card numbers in
    chat texts only.
    """

    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    cards: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MalformedRow:
    """One planted bad row: its file kind, 1-based data row (csv line = row + 1), column and defect."""

    kind: str
    row: int
    column: str
    reason: str
    value: str | None


@dataclass(frozen=True, kw_only=True)
class GroundTruth:
    """Everything planted in one demo data set, which covers [start, end) in UTC."""

    seed: int
    start: datetime
    end: datetime
    engagement: EngagementTruth
    prompt: PromptTruth
    funnel: FunnelTruth
    experiment: ExperimentTruth
    broken_split: BrokenSplitTruth
    leads: LeadTruth
    pii: PiiTruth
    malformed: tuple[MalformedRow, ...] = ()
    attribution: AttributionTruth = field(default_factory=AttributionTruth)
