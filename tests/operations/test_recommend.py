"""``recommend``: the sizing rules on measured load levels (a pure function: no server needed), and
the one VM size table it shares with the computes."""

from __future__ import annotations

from jupyter_mlep import operations as ops
from jupyter_mlep.operations._recommend import LoadLevel
from jupyter_mlep.specs import MANAGED_SIZES, VM_SIZE_TABLE, price_tier
from jupyter_mlep.workspace.computes import VM_SIZES

LEVELS = [
    LoadLevel("concurrency 1", 50.0, 25.0),
    LoadLevel("concurrency 2", 90.0, 40.0),
    LoadLevel("concurrency 4", 100.0, 90.0),
]


def test_the_cheapest_size_and_count_that_meet_the_targets() -> None:
    rec = ops.recommend(
        LEVELS,
        workers=1,
        target_rps=400,
        target_p95_ms=50,
        cpu_seconds_per_request=0.002,
        memory_per_worker=300e6,
    )
    # 90 req/s per worker within 50 ms; 400 req/s need 5 workers: the cheapest is 2 × a 4-core size
    # or 3 × a 2-core one, whichever costs less per hour
    assert rec.instance_type is not None
    size = VM_SIZE_TABLE[rec.instance_type]
    assert rec.workers_per_instance == size.cores and rec.instance_count * size.cores * 90 >= 400
    cheapest = min((-(-400 // (s.cores * 90))) * s.usd_per_hour for s in MANAGED_SIZES if not s.gpus)
    assert rec.usd_per_hour == cheapest
    assert "90.0 req/s per worker" in rec.reasoning[0] and rec.summary.startswith("Recommended:")


def test_cpu_cost_caps_a_worker_at_seventy_percent_of_a_core() -> None:
    rec = ops.recommend(
        LEVELS,
        workers=1,
        target_rps=100,
        target_p95_ms=100,
        cpu_seconds_per_request=0.014,
        memory_per_worker=None,
    )
    assert any("50.0 req/s per worker" in line for line in rec.reasoning), rec.reasoning  # 0.7 / 0.014


def test_memory_limits_the_workers_of_an_instance() -> None:
    rec = ops.recommend(
        LEVELS,
        workers=1,
        target_rps=100,
        target_p95_ms=100,
        cpu_seconds_per_request=None,
        memory_per_worker=3e9,
    )
    assert rec.instance_type is not None
    size = VM_SIZE_TABLE[rec.instance_type]
    assert rec.workers_per_instance * 3e9 * 1.25 <= size.memory_gb * 1e9 * 0.8


def test_no_recommendation_when_no_level_meets_the_latency() -> None:
    rec = ops.recommend(
        LEVELS,
        workers=1,
        target_rps=10,
        target_p95_ms=10,
        cpu_seconds_per_request=None,
        memory_per_worker=None,
    )
    assert rec.instance_type is None and rec.instance_count == 0
    assert "lowest p95 measured was 25.0 ms (concurrency 1)" in rec.reasoning[0]
    assert "No recommendation" in rec.summary


def test_one_table_of_sizes() -> None:
    assert {s.name: (s.cores, s.memory_gb) for s in VM_SIZE_TABLE.values()} == VM_SIZES
    assert {"Standard_DS3_v2", "Standard_F4s_v2", "Standard_E2s_v3", "Standard_NC6s_v3"} <= {
        s.name for s in MANAGED_SIZES
    }
    assert "Standard_DS11_v2" not in {s.name for s in MANAGED_SIZES}, (
        "a compute size managed endpoints do not offer"
    )
    assert [price_tier(p) for p in (0.1, 0.3, 1.0, 3.0)] == ["$", "$$", "$$$", "$$$$"]
