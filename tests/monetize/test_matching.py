"""Product matching: diversity across categories, the approximate search against the exact
one, and relevance on a small seeded catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from guanghe.errors import InvalidInput
from guanghe.monetize.matching import (
    Matches,
    ProductMatcher,
    category_affinity,
    diversify,
    popularity,
    text_vectors,
)


def test_diversify_caps_each_category_and_keeps_score_order() -> None:
    ids = np.array([[4, 1, 2, 0, 3, 5, -1]])
    fetched = Matches(ids, np.array([[9, 8, 7, 6, 5, 4, -np.inf]], dtype=np.float32))
    category = np.array([0, 0, 1, 1, 0, 2])
    out = diversify(fetched, category, k=4, per_category=1)
    assert out.product_index.tolist() == [[4, 2, 5, -1]]
    out = diversify(fetched, category, k=4, per_category=2)
    assert out.product_index.tolist() == [[4, 1, 2, 3]]  # product 0 is a third of category 0


def _random_catalogue(
    rng: np.random.Generator, m: int, d: int = 16, groups: int = 4, categories: int = 12
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    centers = rng.normal(size=(32, d))  # topics: embeddings of real texts cluster
    vectors = (centers[rng.integers(0, 32, m)] + 0.35 * rng.normal(size=(m, d))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    value = rng.lognormal(0, 0.5, m)
    category = rng.integers(0, categories, m)
    affinity = rng.uniform(0.2, 1.5, (groups, categories))
    return vectors, value, category, affinity


def test_approximate_search_recalls_the_exact_top_products() -> None:
    rng = np.random.default_rng(3)
    vectors, value, category, affinity = _random_catalogue(rng, 4_000)
    queries = vectors[rng.integers(0, 4_000, 300)] + 0.3 * rng.normal(size=(300, 16)).astype(
        np.float32
    )
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    group = rng.integers(0, 4, 300)
    exact = ProductMatcher(exact_below=10**9).fit(vectors, value, category, affinity)
    approx = ProductMatcher(exact_below=1, nlist=64, nprobe=16).fit(
        vectors, value, category, affinity
    )
    truth, found = exact.match(queries, group), approx.match(queries, group)
    recall = np.mean(
        [
            len(set(t) & set(f)) / len(t)
            for t, f in zip(truth.product_index.tolist(), found.product_index.tolist(), strict=True)
        ]
    )
    assert recall >= 0.9
    # the exact score is relevance × value × affinity of the creator's group
    row, col = 0, 0
    p = truth.product_index[row, col]
    expected = (
        (float(queries[row] @ vectors[p]) + 0.1) * value[p] * affinity[group[row], category[p]]
    )
    assert truth.score[row, col] == pytest.approx(expected, rel=1e-4)


def test_small_catalogues_fill_what_they_can() -> None:
    rng = np.random.default_rng(0)
    vectors, value, category, affinity = _random_catalogue(rng, 5, groups=1, categories=5)
    out = ProductMatcher(k=10, per_category=3).fit(vectors, value, category, affinity)
    found = out.match(vectors[:2], np.zeros(2, dtype=np.int64))
    assert (found.product_index[:, :5] >= 0).all()
    assert (found.product_index[:, 5:] == -1).all()


def test_bad_shapes_are_refused() -> None:
    matcher = ProductMatcher()
    with pytest.raises(InvalidInput):
        matcher.fit(np.zeros((3, 2)), np.ones(2), np.zeros(3, int), np.ones((1, 1)))
    with pytest.raises(InvalidInput):
        ProductMatcher(k=60).fit(np.zeros((3, 2)), np.ones(3), np.zeros(3, int), np.ones((1, 1)))


def test_affinity_and_popularity_are_smoothed_lifts() -> None:
    lift = category_affinity([0, 0, 0, 1], [0, 0, 1, 1], groups=2, categories=2, prior_orders=0)
    assert lift[0, 0] > 1 > lift[1, 0]
    assert popularity([0, 0, 0, 1], products=3, prior_orders=0).tolist() == pytest.approx(
        [3 / (4 / 3), 1 / (4 / 3), 0]
    )


def test_matching_puts_relevant_categories_first_on_a_seeded_set() -> None:
    topics = {
        0: ("noodles dumplings hotpot recipe wok", "kitchen"),
        1: ("gaming controller headset ranked boss", "gaming"),
        2: ("lipstick skincare serum makeup glow", "beauty"),
    }
    rng = np.random.default_rng(11)
    creator_texts, creator_group = [], []
    for g, (words, _) in topics.items():
        for _ in range(10):
            picked = rng.choice(words.split(), size=3, replace=False)
            creator_texts.append(" ".join(picked) + " daily vlog")
            creator_group.append(g)
    product_texts, product_category = [], []
    for g, (words, category) in topics.items():
        for i in range(12):
            picked = rng.choice(words.split(), size=2, replace=False)
            product_texts.append(f"{' '.join(picked)} {category} item {i}")
            product_category.append(g * 4 + i % 4)  # four categories per topic
    creators, products = text_vectors(creator_texts, product_texts, dims=16)
    value = rng.uniform(0.8, 1.2, len(product_texts))
    matcher = ProductMatcher(k=6, per_category=2).fit(
        products, value, np.array(product_category), np.ones((3, 12))
    )
    found = matcher.match(creators, np.array(creator_group))
    topic_of = np.array(product_category)[found.product_index] // 4
    on_topic = (topic_of == np.array(creator_group)[:, None]).mean()
    assert on_topic >= 0.9
    per_category = [
        np.bincount(row, minlength=12).max()
        for row in np.array(product_category)[found.product_index]
    ]
    assert max(per_category) <= 2
