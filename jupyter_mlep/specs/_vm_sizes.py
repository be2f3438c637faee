"""The Azure VM sizes this toolkit knows: vCPUs, memory, an approximate price, and whether
managed online endpoints offer the size (their documented SKU list).

One table for the whole package: compute sizes (``vmSize`` of compute clusters and instances)
are checked against it, and ``%endpoint profile`` recommends an ``instance_type`` from its
managed-endpoint rows. Prices are approximate Linux pay-as-you-go list prices in East US (USD per
hour, late 2024) used only to order sizes by cost and to name a price tier; check the Azure
pricing page of your region before you decide.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MANAGED_SIZES", "VM_SIZE_TABLE", "VmSize", "price_tier"]


@dataclass(frozen=True)
class VmSize:
    """One VM size: name, vCPUs, memory (GB), GPUs, approximate USD per hour, and whether managed
    online endpoints offer it as an ``instance_type``."""

    name: str
    cores: int
    memory_gb: float
    usd_per_hour: float
    managed: bool = True
    gpus: int = 0

    @property
    def tier(self) -> str:
        """The price tier: ``$`` (under $0.15/h), ``$$`` (under $0.60/h), ``$$$`` (under $2/h), ``$$$$``."""
        return price_tier(self.usd_per_hour)


def price_tier(usd_per_hour: float) -> str:
    """``$`` … ``$$$$`` for an hourly price."""
    for limit, tier in ((0.15, "$"), (0.60, "$$"), (2.0, "$$$")):
        if usd_per_hour < limit:
            return tier
    return "$$$$"


def _rows() -> list[VmSize]:
    general = [
        ("Standard_DS1_v2", 1, 3.5, 0.073),
        ("Standard_DS2_v2", 2, 7, 0.146),
        ("Standard_DS3_v2", 4, 14, 0.293),
        ("Standard_DS4_v2", 8, 28, 0.585),
        ("Standard_DS5_v2", 16, 56, 1.170),
        ("Standard_D2as_v4", 2, 8, 0.096),
        ("Standard_D4as_v4", 4, 16, 0.192),
        ("Standard_D8as_v4", 8, 32, 0.384),
        ("Standard_D16as_v4", 16, 64, 0.768),
        ("Standard_D32as_v4", 32, 128, 1.536),
        ("Standard_D2a_v4", 2, 8, 0.096),
        ("Standard_D4a_v4", 4, 16, 0.192),
        ("Standard_D8a_v4", 8, 32, 0.384),
        ("Standard_D16a_v4", 16, 64, 0.768),
        ("Standard_D32a_v4", 32, 128, 1.536),
        ("Standard_F2s_v2", 2, 4, 0.085),
        ("Standard_F4s_v2", 4, 8, 0.169),
        ("Standard_F8s_v2", 8, 16, 0.338),
        ("Standard_F16s_v2", 16, 32, 0.677),
        ("Standard_F32s_v2", 32, 64, 1.353),
        ("Standard_F48s_v2", 48, 96, 2.030),
        ("Standard_F64s_v2", 64, 128, 2.707),
        ("Standard_F72s_v2", 72, 144, 3.045),
        ("Standard_E2s_v3", 2, 16, 0.126),
        ("Standard_E4s_v3", 4, 32, 0.252),
        ("Standard_E8s_v3", 8, 64, 0.504),
        ("Standard_E16s_v3", 16, 128, 1.008),
        ("Standard_E32s_v3", 32, 256, 2.016),
        ("Standard_E48s_v3", 48, 384, 3.024),
        ("Standard_E64s_v3", 64, 432, 4.032),
    ]
    gpu = [
        ("Standard_NC4as_T4_v3", 4, 28, 0.526, 1),
        ("Standard_NC8as_T4_v3", 8, 56, 0.752, 1),
        ("Standard_NC16as_T4_v3", 16, 110, 1.204, 1),
        ("Standard_NC64as_T4_v3", 64, 440, 4.352, 4),
        ("Standard_NC6s_v3", 6, 112, 3.060, 1),
        ("Standard_NC12s_v3", 12, 224, 6.120, 2),
        ("Standard_NC24s_v3", 24, 448, 12.240, 4),
        ("Standard_NC24ads_A100_v4", 24, 220, 3.673, 1),
        ("Standard_NC48ads_A100_v4", 48, 440, 7.346, 2),
        ("Standard_NC96ads_A100_v4", 96, 880, 14.692, 4),
        ("Standard_ND96asr_v4", 96, 900, 27.197, 8),
    ]
    compute_only = [  # sizes of compute clusters and instances that managed endpoints do not offer
        ("Standard_DS11_v2", 2, 14, 0.185),
        ("Standard_DS12_v2", 4, 28, 0.371),
        ("Standard_DS13_v2", 8, 56, 0.741),
        ("Standard_DS14_v2", 16, 112, 1.482),
        ("Standard_D1_v2", 1, 3.5, 0.073),
        ("Standard_D2_v2", 2, 7, 0.146),
        ("Standard_D3_v2", 4, 14, 0.293),
        ("Standard_D4_v2", 8, 28, 0.585),
        ("Standard_D11_v2", 2, 14, 0.185),
        ("Standard_D12_v2", 4, 28, 0.371),
        ("Standard_D13_v2", 8, 56, 0.741),
        ("Standard_D2_v3", 2, 8, 0.096),
        ("Standard_D4_v3", 4, 16, 0.192),
        ("Standard_D8_v3", 8, 32, 0.384),
        ("Standard_D16_v3", 16, 64, 0.768),
        ("Standard_D2s_v3", 2, 8, 0.096),
        ("Standard_D4s_v3", 4, 16, 0.192),
        ("Standard_D8s_v3", 8, 32, 0.384),
        ("Standard_D16s_v3", 16, 64, 0.768),
        ("Standard_D2ds_v4", 2, 8, 0.113),
        ("Standard_D4ds_v4", 4, 16, 0.226),
        ("Standard_E4ds_v4", 4, 32, 0.288),
    ]
    return [
        *(VmSize(n, c, float(m), p) for n, c, m, p in general),
        *(VmSize(n, c, float(m), p, gpus=g) for n, c, m, p, g in gpu),
        *(VmSize(n, c, float(m), p, managed=False) for n, c, m, p in compute_only),
    ]


VM_SIZE_TABLE: dict[str, VmSize] = {size.name: size for size in _rows()}
"""Every known size by name."""

MANAGED_SIZES: tuple[VmSize, ...] = tuple(s for s in VM_SIZE_TABLE.values() if s.managed)
"""The sizes managed online endpoints offer as ``instance_type`` (their documented SKU list)."""
