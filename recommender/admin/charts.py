"""Geometry for the stats report's inline SVG charts: dated x axes, and a scale of its own for each measure.

Impressions are bars on one panel; clicks (bars) and CTR (a line, right-hand axis) share a second panel,
so a day with 1,000 impressions and 12 clicks still shows the clicks. No script or CDN is involved.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from recommender.reports import StatRow

WIDTH = 760
LEFT, RIGHT = 48, 48  # room for the y axes' labels


def nice_top(value: float, steps: int = 4) -> tuple[float, float]:
    """A round axis maximum at or above `value` and its tick step (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return float(steps), 1.0
    raw = value / steps
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return step * steps, step


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _x_labels(days: Sequence[StatRow], slot: float) -> list[dict[str, Any]]:
    """About eight date labels, first and last day included."""
    every = max(1, math.ceil(len(days) / 8))
    picked = [n for n in range(len(days)) if n % every == 0]
    last = len(days) - 1
    if days and picked[-1] != last:  # the latest day is always labelled; a label too close to it makes way
        if last - picked[-1] < every / 2 and len(picked) > 1:
            picked[-1] = last
        else:
            picked.append(last)
    return [
        {"x": round(LEFT + (n + 0.5) * slot, 1), "text": f"{days[n].key:%b} {days[n].key.day}", "iso": days[n].label}
        for n in picked
    ]


def panel(days: Sequence[StatRow], *, height: int, measure: str, ctr: bool = False) -> dict[str, Any]:
    """One panel: bars of `measure` per day with a left axis, and optionally the CTR line on a right axis."""
    plot_w = WIDTH - LEFT - RIGHT
    top_pad, bottom_pad = 12, 26
    plot_h = height - top_pad - bottom_pad
    base = top_pad + plot_h
    slot = plot_w / max(len(days), 1)
    values = [getattr(d, measure) for d in days]
    top, step = nice_top(max(values, default=0))
    bars = []
    for n, (d, v) in enumerate(zip(days, values, strict=True)):
        h = round(v / top * plot_h, 1)
        bars.append(
            {
                "x": round(LEFT + n * slot + slot * 0.15, 1),
                "w": round(max(slot * 0.7, 1), 1),
                "y": round(base - h, 1),
                "h": h,
                "row": d,
            }
        )
    ticks = [
        {"y": round(base - k * step / top * plot_h, 1), "text": _number(k * step)} for k in range(round(top / step) + 1)
    ]
    result: dict[str, Any] = {
        "height": height, "width": WIDTH, "base": base, "left": LEFT, "right": WIDTH - RIGHT, "top": top_pad,
        "bars": bars, "ticks": ticks, "x_labels": _x_labels(days, slot), "label_y": base + 17,
    }  # fmt: skip
    if ctr:
        rates = [d.ctr for d in days]
        ctop, cstep = nice_top(max(rates, default=0) * 100)
        points = [
            f"{LEFT + (n + 0.5) * slot:.1f},{base - (r * 100) / ctop * plot_h:.1f}"
            for n, (d, r) in enumerate(zip(days, rates, strict=True))
            if d.impressions
        ]
        result["ctr_points"] = " ".join(points)
        result["ctr_ticks"] = [
            {"y": round(base - k * cstep / ctop * plot_h, 1), "text": f"{_number(k * cstep)}%"}
            for k in range(round(ctop / cstep) + 1)
        ]
    return result
