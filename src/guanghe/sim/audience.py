"""The audience-response model: one simulated day of exposures, engagement, follows and money.

Per day and active work, organic exposures come from the creator's followers, quality, the
work's appeal and age, and its vertical's reach. A historical traffic-support program boosts a
random subset of program creators with amounts spread over three orders of magnitude; boosted
impressions convert to follows along each creator's saturating curve
``response_a * (1 - exp(-x / response_s))``. Plays, likes, comments and shares are binomial
in exposures with quality-dependent rates; unfollows are churn of the current followers;
profile visits feed orders (commerce creators) and profile-page ads (authorised creators).
Rows are daily roll-ups (``count``), one per (work or creator, type, day).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from guanghe.events.schema import EVENT_SCHEMA, EVENT_TYPES
from guanghe.sim.content import WorkPlan
from guanghe.sim.monetize import Market, record_clicks, sell, serve_ads
from guanghe.sim.population import Population

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

#: Organic reach by days since publication (day 0 is a partial day).
AGE_DECAY: Final = np.array([0.5, 1.0, 0.55, 0.3, 0.16, 0.09, 0.05])
ACTIVE_DAYS: Final = int(AGE_DECAY.shape[0])
#: Organic reach multiplier per vertical (ids 1..16).
VERTICAL_REACH: Final = np.array(
    [1.2, 1.3, 1.4, 0.8, 1.0, 1.1, 0.9, 1.0, 0.8, 0.7, 0.9, 0.8, 1.0, 1.2, 0.6, 1.1]
)
BOOST_DAY_PROBABILITY: Final = 0.25
BOOST_RANGE_IMPRESSIONS: Final = (200, 300_000)
_DAY_US: Final = 86_400_000_000
_CODE = {name: code for code, name in enumerate(EVENT_TYPES)}


@dataclass(slots=True)
class AudienceState:
    """What carries over from one day to the next, per creator."""

    followers: Ints
    latest_work: Ints  # index into the work plan, -1 before the first work
    follows: Ints = field(init=False)
    unfollows: Ints = field(init=False)

    def __post_init__(self) -> None:
        self.follows = np.zeros_like(self.followers)
        self.unfollows = np.zeros_like(self.followers)

    @classmethod
    def start(cls, population: Population, works: WorkPlan) -> AudienceState:
        """The state before day 0: each creator's latest work before the period, if any."""
        followers = population.followers_initial.copy()
        latest = np.full_like(followers, -1)
        before = np.arange(works.day_start[0])
        np.maximum.at(latest, works.creator_index[before], before)
        return cls(followers=followers, latest_work=latest)


@dataclass(slots=True)
class _Rows:
    """Column blocks of one day's rows before they become a table; ``ref`` is the campaign id
    of ad rows and the product id of orders."""

    parts: dict[str, list[npt.NDArray[np.generic]]] = field(
        default_factory=lambda: {
            k: []
            for k in ("code", "creator", "work", "count", "flag", "amount", "commission", "ref")
        }
    )

    def add(
        self,
        kind: str,
        creator: Ints,
        count: Ints,
        work: Ints | None = None,
        flag: int = 0,
        amount: Ints | None = None,
        ref: Ints | None = None,
        commission: Ints | None = None,
    ) -> None:
        keep = count > 0
        k = int(keep.sum())
        zeros = np.zeros(k, dtype=np.int64)
        self.parts["code"].append(np.full(k, _CODE[kind], dtype=np.int8))
        self.parts["creator"].append(creator[keep])
        self.parts["work"].append(work[keep] if work is not None else zeros - 1)
        self.parts["count"].append(count[keep])
        self.parts["flag"].append(np.full(k, flag, dtype=np.int64))
        self.parts["amount"].append(amount[keep] if amount is not None else zeros)
        self.parts["commission"].append(commission[keep] if commission is not None else zeros)
        self.parts["ref"].append(ref[keep] if ref is not None else zeros)

    def column(self, name: str) -> npt.NDArray[np.generic]:
        return np.concatenate(self.parts[name])


def simulate_day(
    rng: np.random.Generator,
    day: int,
    population: Population,
    works: WorkPlan,
    state: AudienceState,
    market: Market,
) -> _Rows:
    """Draw day ``day``'s events and advance ``state``; returns the day's row blocks."""
    pop, n = population, population.size
    rows = _Rows()
    today = np.arange(works.day_start[day], works.day_start[day + 1])
    np.maximum.at(state.latest_work, works.creator_index[today], today)

    first_active = np.searchsorted(works.day, day - ACTIVE_DAYS + 1)  # works before day 0 too
    active = np.arange(first_active, works.day_start[day + 1])
    owner = works.creator_index[active]
    reach = (
        VERTICAL_REACH[works.vertical_id[active] - 1]
        * (40.0 + 0.12 * state.followers[owner])
        * works.appeal[active]
        * (0.3 + 1.4 * pop.quality[owner])
        * AGE_DECAY[day - works.day[active]]
    )
    organic = rng.poisson(reach).astype(np.int64)
    rows.add("exposure", owner, organic, work=active, flag=0)

    eligible = pop.in_boost_program & (state.latest_work >= 0)
    boosted = np.flatnonzero(eligible & (rng.random(n) < BOOST_DAY_PROBABILITY))
    low, high = np.log(BOOST_RANGE_IMPRESSIONS)
    boost = np.round(np.exp(rng.uniform(low, high, boosted.shape[0]))).astype(np.int64)
    boost_work = state.latest_work[boosted]
    rows.add("exposure", boosted, boost, work=boost_work, flag=1)

    plays_by_creator = _engagement(rng, rows, pop, works, active, organic, boost_work, boost, n)

    boost_mean = np.zeros(n)
    boost_mean[boosted] = pop.response_a[boosted] * -np.expm1(-boost / pop.response_s[boosted])
    organic_by_creator = np.bincount(owner, weights=organic, minlength=n)
    follows = rng.poisson(organic_by_creator * pop.organic_follow_rate + boost_mean)
    unfollows = np.minimum(rng.poisson(state.followers * pop.churn_rate), state.followers + follows)
    creators = np.arange(n, dtype=np.int64)
    rows.add("follow", creators, follows)
    rows.add("unfollow", creators, unfollows)
    state.followers += follows - unfollows
    state.follows += follows
    state.unfollows += unfollows

    _profile_traffic(rng, rows, pop, plays_by_creator, market, day)
    return rows


def _engagement(
    rng: np.random.Generator,
    rows: _Rows,
    pop: Population,
    works: WorkPlan,
    active: Ints,
    organic: Ints,
    boost_work: Ints,
    boost: Ints,
    n: int,
) -> Ints:
    """Plays, likes, comments and shares per exposed work; returns plays per creator."""
    exposed, inverse = np.unique(np.concatenate([active, boost_work]), return_inverse=True)
    total = np.bincount(inverse, weights=np.concatenate([organic, boost]).astype(np.float64))
    owner = works.creator_index[exposed]
    q = pop.quality[owner]
    play_rate = np.clip((0.2 + 0.5 * q) * np.sqrt(np.minimum(works.appeal[exposed], 4.0)), 0, 0.95)
    plays = rng.binomial(total.astype(np.int64), play_rate)
    rows.add("play", owner, plays, work=exposed)
    rows.add("like", owner, rng.binomial(plays, 0.01 + 0.08 * q), work=exposed)
    rows.add("comment", owner, rng.binomial(plays, 0.001 + 0.01 * q), work=exposed)
    rows.add("share", owner, rng.binomial(plays, 0.0005 + 0.006 * q), work=exposed)
    return np.bincount(owner, weights=plays, minlength=n).astype(np.int64)


def _profile_traffic(
    rng: np.random.Generator,
    rows: _Rows,
    pop: Population,
    plays_by_creator: Ints,
    market: Market,
    day: int,
) -> None:
    """Profile visits turn into orders of the market's products (commerce creators) and
    impressions and clicks of its campaigns (authorised creators)."""
    n, q = pop.size, pop.quality
    visits = rng.binomial(plays_by_creator, 0.03)
    orders = np.where(pop.commerce, rng.poisson(visits * (0.002 + 0.01 * q)), 0)
    buyer = np.repeat(np.arange(n, dtype=np.int64), orders)
    product, price, commission = sell(market, pop.vertical_id[buyer])
    rows.add("order", buyer, np.ones_like(buyer), amount=price, ref=product, commission=commission)
    wanted = np.where(pop.ads_authorised, rng.binomial(visits, 0.8), 0)
    campaign, impressions, charged = serve_ads(market, day, pop.vertical_id, wanted)
    clicks = rng.binomial(impressions, 0.01 + 0.03 * q)
    record_clicks(market, campaign, clicks)
    creators = np.arange(n, dtype=np.int64)
    rows.add("ad_impression", creators, impressions, ref=campaign, amount=charged)
    rows.add("ad_click", creators, clicks, ref=campaign)


def day_table(
    rng: np.random.Generator,
    rows: _Rows,
    works: WorkPlan,
    day_start_us: int,
    id_prefix: str,
) -> pa.Table:
    """The rows as an :data:`EVENT_SCHEMA` table with event ids ``<id_prefix><n>``.

    Timestamps fall uniformly within the day, after publication for rows of a work
    published that day.
    """
    code = rows.column("code").astype(np.int8)
    creator = rows.column("creator").astype(np.int64)
    work = rows.column("work").astype(np.int64)
    amount = rows.column("amount").astype(np.int64)
    ref = rows.column("ref").astype(np.int64)
    m = code.shape[0]
    floor = np.full(m, day_start_us, dtype=np.int64)
    has_work = work >= 0
    floor[has_work] = np.maximum(floor[has_work], works.published_us[work[has_work]])
    ts = floor + (rng.random(m) * (day_start_us + _DAY_US - floor)).astype(np.int64)

    is_exposure = code == _CODE["exposure"]
    is_order = code == _CODE["order"]
    is_ad = (code == _CODE["ad_impression"]) | (code == _CODE["ad_click"])
    charged = is_order | ((code == _CODE["ad_impression"]) & (amount > 0))
    numbers = pc.cast(pa.array(np.arange(m, dtype=np.int64)), pa.string())
    columns = {
        "event_id": pc.binary_join_element_wise(id_prefix, numbers, ""),
        "type": pc.take(pa.array(EVENT_TYPES, pa.string()), pa.array(code)),
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "creator_id": pa.array(creator + 1),
        "work_id": pa.array(work + 1, mask=~has_work),
        "count": pa.array(rows.column("count").astype(np.int64)),
        "boosted": pa.array(rows.column("flag").astype(np.bool_), mask=~is_exposure),
        "amount_fen": pa.array(amount, mask=~charged),
        "campaign_id": pa.array(ref, mask=~is_ad),
        "product_id": pa.array(ref, mask=~is_order),
        "commission_fen": pa.array(rows.column("commission").astype(np.int64), mask=~is_order),
        "ref_event_id": pa.nulls(m, pa.string()),
    }
    return pa.table(columns, schema=EVENT_SCHEMA)
