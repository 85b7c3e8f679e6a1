from datetime import UTC, datetime

from credentials.status_list import MIN_ENTRIES, MutableBitstring
from verifier.bounded_cache import BoundedCache
from verifier.status import CachedStatusList, MemoryStatusListStore

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LIST_BYTES = MIN_ENTRIES // 8


def test_least_recently_used_leaves_first() -> None:
    cache: BoundedCache[int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None
    assert cache.get("a") == 1
    assert cache.get("c") == 3
    assert len(cache) == 2


def test_replacing_a_key_keeps_weight() -> None:
    cache: BoundedCache[str] = BoundedCache(10, weigh=len)
    cache.put("a", "xxxx")
    cache.put("a", "yy")
    assert cache.weight == 2
    assert cache.get("a") == "yy"


def test_heavy_entry_kept_alone() -> None:
    cache: BoundedCache[str] = BoundedCache(3, weigh=len)
    cache.put("a", "x")
    cache.put("b", "much too heavy")
    assert cache.get("a") is None
    assert cache.get("b") == "much too heavy"
    assert cache.weight == len("much too heavy")


def status_list(url: str) -> CachedStatusList:
    return CachedStatusList(
        url=url,
        issuer="did:example:issuer",
        purpose="revocation",
        bitstring=MutableBitstring().freeze(),
        fetched_at=NOW,
    )


def test_status_store_bounded_by_list_bytes() -> None:
    store = MemoryStatusListStore(max_bytes=2 * LIST_BYTES)
    for index in range(3):
        store.put(status_list(f"https://issuer.example/status/{index}"))
    assert store.get("https://issuer.example/status/0") is None
    assert store.get("https://issuer.example/status/1") is not None
    assert store.get("https://issuer.example/status/2") is not None
