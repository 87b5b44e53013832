"""The variant index, looking up many keys at once, finds exactly the items whose deletion
variants meet each key's, for any keys (of any length, repeated, or not ASCII), whether they are
cut together or one by one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from alpr_core.alerts.variant_index import VariantIndex, deletion_variants

KEYS = st.text(alphabet="AB01É", max_size=6)


@given(
    st.lists(st.tuples(KEYS, st.integers(0, 2)), max_size=25),
    st.lists(KEYS, max_size=25),
    st.integers(0, 2),
    st.sampled_from([1, 3, 1000]),
)
def test_sharing_finds_exactly_the_items_with_a_common_variant(
    items: list[tuple[str, int]], keys: list[str], deletions: int, batch_from: int
) -> None:
    index = VariantIndex[int](batch_from)
    for number, (key, own_deletions) in enumerate(items):
        index.add(number, key, own_deletions)
    found = index.sharing(keys, deletions)
    for key, pairs in zip(keys, found, strict=True):
        expected = {
            (number, own)
            for number, (own, own_deletions) in enumerate(items)
            if deletion_variants(own, own_deletions) & deletion_variants(key, deletions)
        }
        assert set(pairs) == expected


def test_an_empty_index_finds_nothing() -> None:
    assert VariantIndex[str]().sharing(["AB12CDE", ""], 2) == [[], []]
