"""The profile slot's hand-written JSON (the hot path skips the model) is exactly what its
declared response model, :class:`ProfileSlotOut`, would write."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanghe.api.routers.profile_slots import ProfileSlotOut, slot_json
from guanghe.monetize import AdPlacement, ProductCard, ProfileSlot

_ids = st.integers(min_value=1, max_value=2**63 - 1)
_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
_ads = st.builds(
    AdPlacement,
    campaign_id=_ids,
    advertiser_id=_ids,
    billing=st.sampled_from(["cpm", "cpc"]),
    title=_text,
    url=_text,
    image_url=st.none() | _text,
    price_millifen=st.integers(min_value=0, max_value=2**53),
    click_price_fen=st.none() | st.integers(min_value=0, max_value=2**53),
)
_products = st.builds(
    ProductCard,
    rank=st.integers(min_value=1, max_value=50),
    product_id=_ids,
    title=_text,
    category=_text,
    price_fen=st.integers(min_value=0, max_value=2**53),
    commission_bp=st.integers(min_value=0, max_value=10_000),
    why=_text,
)
_slots = st.builds(
    ProfileSlot,
    creator_id=_ids,
    decided_at=st.datetimes(timezones=st.just(dt.UTC)),
    profile_ads=st.booleans(),
    product_display=st.booleans(),
    ad=st.none() | _ads,
    products=st.lists(_products, max_size=5).map(tuple),
    preview=st.booleans(),
)


def _matches_model(slot: ProfileSlot) -> None:
    content = slot_json(slot)
    model = ProfileSlotOut.model_validate_json(content)
    assert model.model_dump_json() == content
    assert model.decided_at == slot.decided_at
    assert (model.ad is None) == (slot.ad is None)
    assert len(model.products) == len(slot.products)


@given(_slots)
def test_the_hand_written_json_is_the_models_own(slot: ProfileSlot) -> None:
    _matches_model(slot)


AD = AdPlacement(7, 3, "cpc", '春季新品 "限时"', "https://a.example/x?y=1", None, 1_250, 40)
CARD = ProductCard(1, 9, "茶具\n套装", "家居", 12_900, 1_500, "Shown 1st because…")
NOON = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("ad", [None, AD], ids=["no-ad", "ad"])
@pytest.mark.parametrize("products", [(), (CARD,)], ids=["no-products", "products"])
@pytest.mark.parametrize("preview", [False, True], ids=["served", "preview"])
def test_every_shape_matches_the_model(
    ad: AdPlacement | None, products: tuple[ProductCard, ...], preview: bool
) -> None:
    _matches_model(ProfileSlot(5, NOON, ad is not None, bool(products), ad, products, preview))
