"""What an experiment changes for its treated creators, and which creators are treated."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Final, Literal

import numpy as np
import numpy.typing as npt
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from guanghe.errors import InvalidInput

ProductRanking = Literal["match", "commission"]
#: Bounds of a policy's factors: a factor outside them is a typo, not an experiment.
MAX_FACTOR: Final = 10.0
MAX_EXPLORATION_SHARE: Final = 0.5


@dataclass(frozen=True, slots=True)
class ExperimentPolicy:
    """A policy applied to an experiment's treated creators (the defaults change nothing).

    - ``pool_weights``: per traffic pool, a factor on the value of a treated creator's follow
      in the allocation (an allocation rule: 1.5 favours them at the pool's price).
    - ``pool_shares``: per traffic pool, a factor on the treated creators' head-count share of
      the pool's budget (1.2: a fifth more impressions than their number would give them; the
      control arm gets the rest of the pool).
    - ``exploration_share``: the share of the treated creators' slice of each pool spread
      evenly over those of them whose response curve has no boosted evidence yet.
    - ``product_ranking``: ``match`` (relevance × value × affinity, the default) or
      ``commission`` (the matched products re-ordered by commission per sale).
    """

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")
    pool_weights: dict[str, float] = field(default_factory=dict)
    pool_shares: dict[str, float] = field(default_factory=dict)
    exploration_share: Annotated[float, Field(ge=0.0, le=MAX_EXPLORATION_SHARE)] = 0.0
    product_ranking: ProductRanking = "match"

    def check_pools(self, pools: Iterable[str]) -> None:
        """Raise :class:`InvalidInput` for a pool the programme does not have or a factor out
        of ``(0, MAX_FACTOR]`` (pool shares may be 0)."""
        known = tuple(pools)
        for what, factors, lowest in (
            ("pool_weights", self.pool_weights, False),
            ("pool_shares", self.pool_shares, True),
        ):
            for pool, factor in factors.items():
                if pool not in known:
                    raise InvalidInput(f"policy.{what}: unknown pool {pool!r}; one of {known}")
                if not (factor >= 0 if lowest else factor > 0) or factor > MAX_FACTOR:
                    bound = "0" if lowest else "above 0"
                    raise InvalidInput(
                        f"policy.{what}.{pool}: {factor} is outside {bound}..{MAX_FACTOR:g}"
                    )

    def to_json(self) -> dict[str, Any]:
        """The policy as stored and served."""
        return dict(_ADAPTER.dump_python(self, mode="json"))

    def describe(self) -> str:
        """The policy in a sentence."""
        parts = [f"follows in {p} valued ×{f:g}" for p, f in sorted(self.pool_weights.items())]
        parts += [f"×{f:g} their share of {p}" for p, f in sorted(self.pool_shares.items())]
        if self.exploration_share:
            parts.append(f"{self.exploration_share:.0%} of their traffic explores unknown curves")
        if self.product_ranking != "match":
            parts.append(f"products ranked by {self.product_ranking}")
        return "; ".join(parts) or "no change (an A/A test)"


_ADAPTER: Final = TypeAdapter(ExperimentPolicy)


def policy_from_json(data: Mapping[str, Any], where: str = "policy") -> ExperimentPolicy:
    """Validate a policy object; :class:`InvalidInput` naming the field otherwise."""
    try:
        return _ADAPTER.validate_python(dict(data))
    except ValidationError as error:
        first = error.errors()[0]
        loc = ".".join(str(part) for part in (where, *first["loc"]))
        raise InvalidInput(f"{loc}: {first['msg']}") from None


def treated(key: str, creator_ids: npt.ArrayLike, share: float) -> npt.NDArray[np.bool_]:
    """Whether each creator is in the treatment arm of the experiment ``key``.

    Stable by creator: the first 60 bits of ``sha256("<key>:<creator_id>")`` as a uniform
    number in [0, 1) below ``share``. A creator's arm never depends on who else is assigned,
    and different keys split the creators independently.
    """
    ids = np.asarray(creator_ids, dtype=np.int64)
    draws = np.fromiter(
        (
            int.from_bytes(hashlib.sha256(f"{key}:{c}".encode()).digest()[:8], "big") >> 4
            for c in ids.tolist()
        ),
        dtype=np.float64,
        count=ids.shape[0],
    )
    result: npt.NDArray[np.bool_] = draws / float(1 << 60) < share
    return result
