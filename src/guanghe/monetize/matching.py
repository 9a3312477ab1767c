"""Matching products to creators: relevance × commission × predicted conversion, searched with
FAISS, diversified across categories.

The score of product ``p`` for creator ``c`` in group ``g`` (the creator's vertical) is::

    score = (cos(c, p) + relevance_floor) × value[p] × affinity[g, category[p]]

``cos`` is the similarity of the creator's works and the product's text (TF-IDF, reduced with
a truncated SVD), ``value`` the commission of one sale times the product's smoothed popularity
and ``affinity`` the lift of orders of the category by creators of the group. Because
the score is an inner product of the creator's vector ``[c, floor]`` with the product's
``[p, 1] × value × affinity[g]``, the top products of every creator of a group are a maximum
inner product search over that group's scaled product vectors, done exactly
(``IndexFlatIP``) for catalogues under ``exact_below`` products. Above it, an inverted file
(``IndexIVFFlat``; one coarse quantizer trained once and shared by every group, since scaling
a vector does not change its nearest centroid) finds the best ``cos × value`` products, the
group's highest-value products cover the floor's share, and the union is rescored exactly.
The best ``candidates`` per creator are then diversified: at most ``per_category`` products of
one category, best first, until ``k``.

References: Johnson, Douze & Jégou (2019), "Billion-scale similarity search with GPUs"
(FAISS); Carbonell & Goldstein (1998) on diversity-aware re-ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from guanghe.errors import InvalidInput
from guanghe.threads import model_threads

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Matches:
    """Top products per creator: ``product_index`` (n, k) into the fitted catalogue, -1 where
    fewer than ``k`` were found, and their ``score`` (n, k), best first."""

    product_index: Ints
    score: npt.NDArray[np.float32]


class ProductMatcher:
    """Top-``k`` products per creator by relevance × value × group affinity.

    Parameters
    ----------
    k
        Products per creator after diversification.
    candidates
        Products fetched per creator before diversification (>= k).
    per_category
        At most this many products of one category per creator.
    relevance_floor
        Added to the cosine so that value and affinity still rank unrelated products.
    exact_below
        Catalogues smaller than this are searched exactly.
    nlist, nprobe
        Inverted-file lists (default ``4 × sqrt(m)``) and lists probed per query.
    """

    def __init__(
        self,
        *,
        k: int = 10,
        candidates: int = 50,
        per_category: int = 3,
        relevance_floor: float = 0.1,
        exact_below: int = 20_000,
        nlist: int | None = None,
        nprobe: int = 64,
    ) -> None:
        self.k = k
        self.candidates = candidates
        self.per_category = per_category
        self.relevance_floor = relevance_floor
        self.exact_below = exact_below
        self.nlist = nlist
        self.nprobe = nprobe

    def fit(
        self,
        product_vectors: npt.ArrayLike,
        product_value: npt.ArrayLike,
        product_category: npt.ArrayLike,
        group_affinity: npt.ArrayLike,
    ) -> ProductMatcher:
        """Index the catalogue once per creator group.

        Parameters
        ----------
        product_vectors
            (m, d) unit-norm text vectors.
        product_value
            (m,) non-negative commission × predicted conversion.
        product_category
            (m,) category index in ``0..C-1``.
        group_affinity
            (G, C) non-negative conversion lift of each category for each creator group.
        """
        self._check_parameters()
        vectors = np.ascontiguousarray(product_vectors, dtype=np.float32)
        value = np.asarray(product_value, dtype=np.float32)
        category = np.asarray(product_category, dtype=np.int64)
        affinity = np.asarray(group_affinity, dtype=np.float32)
        m = vectors.shape[0]
        if vectors.ndim != 2 or value.shape != (m,) or category.shape != (m,):
            raise InvalidInput("product arrays must be (m, d), (m,) and (m,)")
        if affinity.ndim != 2 or (
            m and (category.min() < 0 or category.max() >= affinity.shape[1])
        ):
            raise InvalidInput(
                "group_affinity must be (groups, categories) covering every category"
            )
        if np.any(value < 0) or np.any(affinity < 0):
            raise InvalidInput("values and affinities must be non-negative")
        self.category_ = category
        self.n_products_ = m
        self.exact_ = m < self.exact_below
        # value × affinity of every product for every group: (G, m)
        self.group_value_ = value[None, :] * affinity[:, category]
        self.indexes_: list[Any] = []
        if self.exact_:
            augmented = np.hstack([vectors, np.ones((m, 1), dtype=np.float32)])
            for g in range(affinity.shape[0]):
                flat: Any = faiss.IndexFlatIP(augmented.shape[1])
                flat.add(np.ascontiguousarray(augmented * self.group_value_[g][:, None]))
                self.indexes_.append(flat)
            return self
        self.vectors_ = vectors
        self.nlist_ = self.nlist or max(1, int(4 * np.sqrt(m)))
        self.quantizer_ = faiss.IndexFlatIP(vectors.shape[1])
        trainer = faiss.IndexIVFFlat(
            self.quantizer_, vectors.shape[1], self.nlist_, faiss.METRIC_INNER_PRODUCT
        )
        trainer.train(vectors)
        top = min(self.candidates, m)
        self.prior_ = np.argsort(-self.group_value_, axis=1, kind="stable")[:, :top]
        for g in range(affinity.shape[0]):
            index: Any = faiss.IndexIVFFlat(
                self.quantizer_, vectors.shape[1], self.nlist_, faiss.METRIC_INNER_PRODUCT
            )
            index.nprobe = self.nprobe
            index.add(np.ascontiguousarray(vectors * self.group_value_[g][:, None]))
            self.indexes_.append(index)
        return self

    def match(self, creator_vectors: npt.ArrayLike, creator_group: npt.ArrayLike) -> Matches:
        """Top products of each creator (``creator_vectors`` (n, d) unit-norm, ``creator_group``
        (n,) in ``0..G-1``), diversified across categories. O(n · cost of one search)."""
        fetched = self.search(creator_vectors, creator_group)
        return diversify(fetched, self.category_, k=self.k, per_category=self.per_category)

    def search(self, creator_vectors: npt.ArrayLike, creator_group: npt.ArrayLike) -> Matches:
        """The best ``candidates`` products per creator by score, before diversification."""
        queries = np.asarray(creator_vectors, dtype=np.float32)
        group = np.asarray(creator_group, dtype=np.int64)
        n = queries.shape[0]
        if queries.ndim != 2 or group.shape != (n,):
            raise InvalidInput("creator arrays must be (n, d) and (n,)")
        if n and (group.min() < 0 or group.max() >= len(self.indexes_)):
            raise InvalidInput("creator groups must be within the fitted affinity's groups")
        fetch = min(self.candidates, max(self.n_products_, 1))
        ids = np.full((n, fetch), -1, dtype=np.int64)
        scores = np.full((n, fetch), -np.inf, dtype=np.float32)
        for g in np.unique(group).tolist():
            rows = np.flatnonzero(group == g)
            found_ids, found_scores = self._search_group(g, queries[rows], fetch)
            ids[rows], scores[rows] = found_ids, found_scores
        scores[ids < 0] = -np.inf
        return Matches(ids, scores)

    def _search_group(
        self, g: int, queries: Floats, fetch: int
    ) -> tuple[Ints, npt.NDArray[np.float32]]:
        """Top ``fetch`` products for creators of group ``g``.

        Exact: one inner product search over ``[p, 1] × value``. Inverted file: the union of
        the search over ``p × value`` (relevance × value) and the group's products of highest
        value (the floor's share), rescored exactly, deduplicated and cut to ``fetch``.
        """
        floor = self.relevance_floor
        if self.exact_:
            augmented = np.hstack([queries, np.full((len(queries), 1), floor, np.float32)])
            found_scores, found_ids = self.indexes_[g].search(
                np.ascontiguousarray(augmented), fetch
            )
            return found_ids, found_scores
        value = self.group_value_[g]
        near_dist, near_ids = self.indexes_[g].search(np.ascontiguousarray(queries), fetch)
        near_scores = near_dist + floor * value[np.maximum(near_ids, 0)]
        near_scores[near_ids < 0] = -np.inf
        prior = self.prior_[g]
        prior_scores = (queries @ self.vectors_[prior].T + floor) * value[prior][None, :]
        ids = np.hstack([near_ids, np.broadcast_to(prior, (len(queries), prior.size))])
        scores = np.hstack([near_scores, prior_scores.astype(np.float32)])
        by_id = np.argsort(ids, axis=1, kind="stable")
        sorted_ids = np.take_along_axis(ids, by_id, axis=1)
        repeated = np.zeros_like(sorted_ids, dtype=bool)
        repeated[:, 1:] = sorted_ids[:, 1:] == sorted_ids[:, :-1]
        drop = np.zeros_like(repeated)
        np.put_along_axis(drop, by_id, repeated, axis=1)
        scores[drop | (ids < 0)] = -np.inf
        best = np.argsort(-scores, axis=1, kind="stable")[:, :fetch]
        return np.take_along_axis(ids, best, axis=1), np.take_along_axis(scores, best, axis=1)

    def _check_parameters(self) -> None:
        if not 1 <= self.k <= self.candidates:
            raise InvalidInput("need 1 <= k <= candidates")
        if self.per_category < 1 or self.nprobe < 1 or self.exact_below < 0:
            raise InvalidInput("per_category and nprobe must be positive")
        if self.relevance_floor < 0:
            raise InvalidInput("relevance_floor must be non-negative")


def diversify(fetched: Matches, category: Ints, *, k: int, per_category: int) -> Matches:
    """Keep, per row and best first, at most ``per_category`` products of one category, up to
    ``k``. Rows of ``fetched`` are sorted by score, -1 marks no product. Vectorised: O(n · K
    log K) for K candidates per row."""
    ids = fetched.product_index
    n, width = ids.shape
    cats = np.where(ids >= 0, category[np.maximum(ids, 0)], -1)
    order = np.argsort(cats, axis=1, kind="stable")  # stable: score order within a category
    sorted_cats = np.take_along_axis(cats, order, axis=1)
    position = np.broadcast_to(np.arange(width), (n, width))
    starts = np.ones((n, width), dtype=bool)
    starts[:, 1:] = sorted_cats[:, 1:] != sorted_cats[:, :-1]
    run_start = np.maximum.accumulate(np.where(starts, position, 0), axis=1)
    within = np.empty_like(position)
    np.put_along_axis(within, order, position - run_start, axis=1)
    keep = (within < per_category) & (ids >= 0)
    slot = np.cumsum(keep, axis=1) - 1
    keep &= slot < k
    out_ids = np.full((n, k), -1, dtype=np.int64)
    out_scores = np.full((n, k), -np.inf, dtype=np.float32)
    rows, cols = np.nonzero(keep)
    out_ids[rows, slot[rows, cols]] = ids[rows, cols]
    out_scores[rows, slot[rows, cols]] = fetched.score[rows, cols]
    return Matches(out_ids, out_scores)


def category_affinity(
    order_group: npt.ArrayLike,
    order_category: npt.ArrayLike,
    *,
    groups: int,
    categories: int,
    prior_orders: float = 20.0,
) -> npt.NDArray[np.float64]:
    """(groups, categories) lift of a category's share of a group's orders over its share of
    all orders, shrunk towards 1 by ``prior_orders`` pseudo-orders per group."""
    g = np.asarray(order_group, dtype=np.int64)
    c = np.asarray(order_category, dtype=np.int64)
    counts = np.zeros((groups, categories))
    np.add.at(counts, (g, c), 1.0)
    share = (counts.sum(axis=0) + 1.0) / (counts.sum() + categories)
    expected = counts + prior_orders * share
    lift = expected / expected.sum(axis=1, keepdims=True) / share
    return np.asarray(lift, dtype=np.float64)


def popularity(
    order_product: npt.ArrayLike, *, products: int, prior_orders: float = 5.0
) -> npt.NDArray[np.float64]:
    """(products,) orders of each product relative to the mean, shrunk towards 1."""
    counts = np.bincount(np.asarray(order_product, dtype=np.int64), minlength=products)
    mean = counts.mean() if products else 0.0
    return np.asarray((counts + prior_orders) / (mean + prior_orders), dtype=np.float64)


def text_vectors(
    creator_texts: list[str], product_texts: list[str], *, dims: int = 64, seed: int = 0
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Unit-norm TF-IDF vectors of creators' and products' texts in one space, reduced to at
    most ``dims`` dimensions with a truncated SVD."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    texts = [*creator_texts, *product_texts]
    if not texts:
        return np.zeros((0, 1), np.float32), np.zeros((0, 1), np.float32)
    vectorizer = TfidfVectorizer(
        sublinear_tf=True, stop_words="english", token_pattern=r"(?u)\b[a-z][a-z0-9-]+\b"
    )
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no words at all
        empty = np.zeros((len(texts), 1), np.float32)
        return empty[: len(creator_texts)], empty[len(creator_texts) :]
    if matrix.shape[1] > dims:
        with model_threads(matrix.shape[0]):
            reduced = TruncatedSVD(dims, random_state=seed).fit_transform(matrix)
    else:
        reduced = matrix.toarray()
    unit = normalize(reduced).astype(np.float32)
    return unit[: len(creator_texts)], unit[len(creator_texts) :]
