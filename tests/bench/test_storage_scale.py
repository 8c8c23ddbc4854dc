"""bench/storage_scale.py's smoke run: ten messages per shard count on one and two shards, list
pages on an account of 120."""

import re


def test_the_storage_scale_bench_prints_hot_keys_and_list_costs(bench):
    out = bench("storage_scale", "--messages", "10", "--list-messages", "120", "--shards", "1,2")
    assert "### Hot keys at 10,000 messages a second" in out
    for shards in ("1", "2"):
        assert re.search(rf"^\| {shards} \| table \| `AC…#SM…` \|", out, re.M), out[-3000:]
