"""The model's constants and its small pure functions. docs/scoring.md gives the formulas and why.

Every number that shapes a score lives here, so the document and the code can be checked against
each other in one place.
"""
from __future__ import annotations

import math

import numpy as np

# The model's version: a new one whenever a formula or a constant here changes what a score is,
# with the change recorded in docs/scoring.md ("Model versions"). The server notes the version
# its daily snapshots were scored by, so a history chart can mark the day a model change, not
# engagement, moved a score (Klout changed its model unannounced: docs/klout.md).
VERSION = "2026-12-10"

DAY = 86400.0

# Copies (docs/scoring.md, section 6, "Spam runs"): of the person rows to one target whose texts
# have the same words, from different actors, only the earliest actor's count, a week at a time
# (COPY_WINDOW_DAYS from the first copy; then the next copy starts another). Texts of fewer
# words are too common to mean anything when two people write them ("Thank you so much!", "Happy
# birthday to you!"); from five words on, the same words from two accounts are rare by chance.
COPY_MIN_WORDS = 5
COPY_WINDOW_DAYS = 7.0

# Interaction kinds. Reactions carry no actor: they are the page's anonymous audience.
COMMENT, REPLY, MENTION, REACTION = 0, 1, 2, 3
KIND_NAMES = ("comment", "reply", "mention", "reaction")
KIND_WEIGHT = np.array([1.0, 1.0, 0.5, 1.0])

# Age (property 7): full weight for the first third of the horizon, then an exponential fall with
# the horizon as its time constant (e^-1 of the weight one horizon later). The fall is memoryless:
# over silent days every row's weight shrinks by at most e^(-days/horizon), whatever the shape of
# the history, so no score falls faster than K_POINTS / horizon points a day (at 90 days: 0.71 a
# week, 3.0 a month). A window with an end cannot promise that: engagement bunched near its end
# leaves it at once. Rows whose weight is below AGE_FLOOR (past 1,066 days at 90) are dropped.
HORIZON_DAYS = 90.0
FLAT_FRACTION = 1.0 / 3.0
AGE_FLOOR = 1e-5
# Standing (section 3) ages STANDING_AGE_MULT times slower than scores. PageRank splits an actor's
# mass by shares, so as an actor's old engagements fade its recent ones gain share: with the
# scores' own fall, a silent person's engager could gain or lose 8% of its standing in a week,
# doubled by the square in its weight (1.4 points in a search of random worlds). Six times slower
# bounds that part by 0.24 points a week, beside the 0.71 of a person's own fall.
STANDING_AGE_MULT = 6.0

# Sentiment (VADER compound): hostile replies count for nothing and are shown apart (property 8);
# mildly negative ones count half.
HOSTILE = -0.5
MILD_NEGATIVE = -0.05
MILD_FACTOR = 0.5

# Selectivity (property 5): an actor's actions on one UTC day share k/(k+V), V being that day's
# volume in weight units. The day's total V*k/(k+V) still grows with V, never past k.
SELECT_K = 5.0

# Pair diminishing returns (property 3): what one actor gives one target over the horizon is
# C*(1-exp(-P/C)); the audience (reactions) is one pseudo-actor with its own cap.
PAIR_CAP = 1.25
AUDIENCE_CAP = 2.0
# ... and what it gives at most when A lends no standing (nobody but T engages A, or only T's own
# echo): about one reply, however often repeated. Nine accounts that engage only one other, a
# thousand times, then give it 9 * 0.5 raw (29 points), not 9 * 1.25 (37): property 9's star.
# It also sets what a newcomer's reply is worth beside a known person's (property 4).
# The ceiling rises to PAIR_CAP as A's lent standing rises to 1 + CEILING_STANDING.
PAIR_CEILING = 0.5
CEILING_STANDING = 1.0
REACTION_UNIT = 0.2        # per doubling of an item's reaction count ...
REACTION_ITEM_CAP = 1.0    # ... and never more than one reply's worth per item

# Reciprocity (property 9): A's engagement of T is worth RECIP_FREE / max(RECIP_FREE, P(T->A)):
# one exchange back is conversation and costs nothing; a pair that trades favours is discounted.
RECIP_FREE = 1.0

# Standing (property 4): weighted PageRank, relative to an identity nobody engaged with.
DAMPING = 0.5
PR_MAX_ITER = 500
# Standing is solved until every node's residual is below STANDING_TOL, which bounds every
# standing's relative error by the same amount (standing.py). An update passes a standing on to
# the pair weights once it has moved by more than STANDING_STALE (absolute) since it last was:
# so an incremental update and a full recompute agree to about STANDING_STALE, and a capture's
# update touches the few thousand identities whose standing moved that much, not all of them.
STANDING_TOL = 1e-8
STANDING_STALE = 1e-7
STANDING_GAMMA = 2.0
STANDING_MAX = 10.0
# Standing lent by an identity that fewer than STANDING_PEOPLE distinct people engage is scaled
# down in proportion: one account's say-so, however often repeated, does not make anyone
# influential (a chain or cycle of sockpuppets each engaged by the previous one; rule 9).
STANDING_PEOPLE = 3

# Bursts (property 6): what a target's day alone adds counts at most DAY_CAP_MULT times its usual
# day, and never less than its strongest pair that day (one reply is never a burst) or
# DAY_CAP_FLOOR (a hard floor, like Stack Exchange's 200 a day: what a newcomer's first day may add).
DAY_CAP_MULT = 10.0
DAY_CAP_FLOOR = 3.0

# Trend: change of the burst-undamped score over this many days.
TREND_DAYS = 7.0

# Reach (reach.py, docs/scoring.md section 4): a score is never above what R10 raw per person
# within REACH_STEPS steps of engagement would give (10 + 10 log3 of them, in points).
REACH_STEPS = 3

# Topics (property 12).
TOPIC_MIN_INTERACTIONS = 3
TOPIC_MIN_PEOPLE = 2

# The fixed logarithmic map (property 2): raw R10 is 10 points; every RATIO_PER_10 times more raw is
# 10 more points. Below R10 the map is a straight line from 1 (raw 0) to 10.
R10 = 0.55
RATIO_PER_10 = 3.0
K_POINTS = 10.0 / math.log(RATIO_PER_10)


def age_limit(horizon: float) -> float:
    """The age in days past which a row counts nothing (its weight would be below AGE_FLOOR)."""
    return horizon * (FLAT_FRACTION + math.log(1.0 / AGE_FLOOR))


def effective_days(horizon: float) -> float:
    """The integral of age_weight: how many days of full weight a steady history adds up to."""
    return horizon * (FLAT_FRACTION + 1.0 - AGE_FLOOR)


def age_weight(age_days: np.ndarray, horizon: float) -> np.ndarray:
    w = np.exp(-np.maximum(age_days - horizon * FLAT_FRACTION, 0.0) / horizon)
    w[(age_days < 0) | (age_days >= age_limit(horizon))] = 0.0
    return w


def standing_weight(lent):
    """What a pair's value is multiplied by for an actor who lends this standing (section 3)."""
    return np.minimum(lent, STANDING_MAX) ** STANDING_GAMMA


def reply_weight(lent):
    """How many times one plain reply (the actor's only action that day) from an actor who lends
    this standing counts beside one from someone nobody engages: the standing's weight, and the
    pair ceiling, which holds the latter's reply (about 0.61) to 0.5 (section 2)."""
    one = saturate(SELECT_K / (SELECT_K + 1.0), PAIR_CAP)
    return standing_weight(lent) * np.minimum(one, pair_ceiling(lent)) / min(one, PAIR_CEILING)


def pair_ceiling(lent: np.ndarray) -> np.ndarray:
    """The most a person's pair can be worth, given the standing its actor lends it."""
    rise = np.clip((lent - 1.0) / CEILING_STANDING, 0.0, 1.0)
    return PAIR_CEILING + (PAIR_CAP - PAIR_CEILING) * rise


def sentiment_factor(comp: np.ndarray) -> np.ndarray:
    return np.where(comp <= HOSTILE, 0.0, np.where(comp <= MILD_NEGATIVE, MILD_FACTOR, 1.0))


def saturate(x: np.ndarray, cap) -> np.ndarray:
    return cap * -np.expm1(-x / cap)


def points(raw) -> np.ndarray:
    """Unrounded score for raw >= 0 (scalar or array)."""
    r = np.asarray(raw, dtype=float)
    with np.errstate(divide="ignore"):
        logpart = 10.0 + K_POINTS * np.log(np.maximum(r, R10) / R10)
    lin = 1.0 + 9.0 * np.maximum(r, 0.0) / R10
    return np.clip(np.where(r < R10, lin, logpart), 1.0, 100.0)


def to_score(p) -> np.ndarray:
    return np.clip(np.floor(np.asarray(p) + 0.5), 1, 100).astype(int)


def reaction_units(counts_total: int) -> float:
    return min(REACTION_ITEM_CAP, REACTION_UNIT * math.log2(1 + counts_total))


# Exact, order-free sums: each summand is snapped to a 2**-32 grid, so float64 sums of them are
# exact (below 2**21 in magnitude) and cannot depend on input order (property 13).
_GRID = float(2 ** 32)


def snap(x: np.ndarray) -> np.ndarray:
    return np.round(x * _GRID) / _GRID
