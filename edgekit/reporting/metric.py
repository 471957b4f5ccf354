"""What a task metric is and how it compares with fp32: the one place that decides whether a metric is a
proportion (compared in points, with Wilson intervals) or a quantity (compared in % of fp32), and which way is
worse. Light on purpose: the zoo registry, reports, gates, diffs and the float-fallback search all read it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

PROPORTION = "proportion"


def change_interval(drop_ci95: list[float]) -> str:
    """A drop interval (positive = worse) shown as the change it bounds (+ = better), as the Δ column reads:
    "[-7.1, -0.3]" for a drop of [0.3, 7.1] points."""
    return f"[{-drop_ci95[1]:+.1f}, {-drop_ci95[0]:+.1f}]"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str = PROPORTION  # "proportion", or the unit of a quantity ("MW", "p.u.", "return")
    higher_is_better: bool = True

    @property
    def is_proportion(self) -> bool:
        return self.unit == PROPORTION

    @property
    def drop_unit(self) -> str:
        """How a change of this metric is expressed: points of a proportion, or percent of fp32."""
        return "points" if self.is_proportion else "percent"

    @property
    def drop_symbol(self) -> str:
        return "pt" if self.is_proportion else "%"

    def change(self, value: float | None, reference: float | None) -> float | None:
        """value vs fp32, signed (+ = higher): points for a proportion, % of |fp32| otherwise."""
        if value is None or reference is None:
            return None
        if self.is_proportion:
            return 100 * (value - reference)
        return 100 * (value - reference) / abs(reference) if reference else None

    def drop(self, value: float | None, reference: float | None) -> float | None:
        """How much worse than fp32 (positive = worse), in this metric's drop unit."""
        change = self.change(value, reference)
        # 0.0 - change, not -change: an unchanged metric is a drop of 0.0, not -0.0 (printed "-0.00 pt")
        return None if change is None else (0.0 - change if self.higher_is_better else change)

    def tolerance(self, allowed: float, reference: float) -> float:
        """An allowed drop as an absolute difference of values: points of a proportion are fractions (0.005 =
        0.5 points); other metrics are relative to fp32 (0.05 = 5 % of it)."""
        return allowed if self.is_proportion else allowed * abs(reference)

    def within(self, value: float, reference: float, tolerance: float) -> bool:
        """``value`` is at most ``tolerance`` (an absolute difference) worse than ``reference``."""
        worse = (reference - value) if self.higher_is_better else (value - reference)
        return worse <= tolerance

    def interval(self, value: float | None, n: int | None) -> list[float] | None:
        """95 % Wilson interval of a proportion measured on ``n`` samples (None for other metrics)."""
        from edgekit.profiling.stats import wilson

        if not self._countable(value, n):
            return None
        lo, hi = wilson(value, n)
        return [round(lo, 4), round(hi, 4)]

    def drop_interval(self, value: float | None, reference: float | None, n: int | None) -> list[float] | None:
        """95 % interval of the drop vs fp32 in points, positive = worse (proportions only; see
        profiling.stats.drop_interval)."""
        from edgekit.profiling.stats import drop_interval

        if not (self._countable(value, n) and self._countable(reference, n)):
            return None
        lo, hi = drop_interval(value, reference, n)
        if not self.higher_is_better:  # an error rate: worse means higher
            lo, hi = -hi, -lo
        return [round(100 * lo, 2), round(100 * hi, 2)]

    def format(self, value: float) -> str:
        return f"{value:.4f}" if self.is_proportion else f"{value:.4g}"

    def _countable(self, value: float | None, n: int | None) -> bool:
        return self.is_proportion and bool(n) and value is not None and 0 <= value <= 1

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, info: dict | None, name: str | None = None) -> Metric | None:
        """A report's ``metric_info`` (or, in reports that predate it, just the ``metric`` name)."""
        if info:
            return cls(info["name"], info.get("unit", PROPORTION), info.get("higher_is_better", True))
        return cls(name) if name else None
