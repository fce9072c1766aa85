from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.tools.onecard_verify import verify_consistency, verify_inclusion
from tests.ledger import brute

RFC6962_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]


def _tree(size: int):
    """Build a tree the way the sequencer does; return leaves and a store of every subtree hash."""
    leaves = [f"leaf {i}".encode() for i in range(size)]
    frontier, completed = merkle.Frontier(), []
    store = {}
    for index, data in enumerate(leaves):
        store[(0, index)] = merkle.leaf_hash(data)
        frontier.append(store[(0, index)], completed)
    for key, value in completed:
        level = key & 63
        store[(level, ((key >> 6) + 1 >> level) - 1)] = value
    return leaves, store, frontier


def _range_hash(store, start, end):
    return merkle.fold([store[subtree] for subtree in merkle.range_subtrees(start, end)])


def test_rfc6962_eight_leaf_root():
    frontier = merkle.Frontier()
    for data in RFC6962_LEAVES:
        frontier.append(merkle.leaf_hash(data))

    assert frontier.root().hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def test_empty_tree_root_is_the_hash_of_nothing():
    assert merkle.Frontier().root().hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_node_keys_sort_in_the_order_subtrees_complete():
    _, _, frontier = _tree(0)
    completed = []
    for index in range(64):
        frontier.append(merkle.leaf_hash(str(index).encode()), completed)

    keys = [key for key, _ in completed]
    assert keys == sorted(keys)
    assert keys[-1] == merkle.node_key(6, 0)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_proof_from_stored_subtrees_matches_brute_force(size_and_index):
    size, index = size_and_index
    leaves, store, frontier = _tree(size)

    path = [_range_hash(store, start, end) for start, end in merkle.inclusion_ranges(index, size)]

    assert frontier.root() == brute.mth(leaves)
    assert path == brute.path(index, leaves)
    assert verify_inclusion(index, size, store[(0, index)], path, frontier.root())


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_consistency_proof_from_stored_subtrees_matches_brute_force(sizes):
    first, second = sizes
    leaves, store, _ = _tree(second)

    path = [_range_hash(store, start, end) for start, end in merkle.consistency_ranges(first, second)]

    assert path == brute.proof(first, leaves)
    assert verify_consistency(first, second, brute.mth(leaves[:first]), brute.mth(leaves), path)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=2, max_value=300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_a_wrong_leaf_fails_inclusion(size_and_index):
    size, index = size_and_index
    leaves, store, frontier = _tree(size)
    path = brute.path(index, leaves)

    assert not verify_inclusion(index, size, merkle.leaf_hash(b"forged"), path, frontier.root())


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=3, max_value=300).flatmap(lambda n: st.tuples(st.integers(1, n - 2), st.just(n))))
def test_a_rewritten_history_fails_consistency(sizes):
    first, second = sizes
    leaves, _, _ = _tree(second)
    forged = [b"forged", *leaves[1:]]

    assert not verify_consistency(
        first, second, brute.mth(leaves[:first]), brute.mth(forged), brute.proof(first, forged)
    )
