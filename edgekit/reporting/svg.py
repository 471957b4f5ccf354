"""Small self-contained SVG charts (no plotting library, no network): they embed in Markdown viewers and HTML."""

from __future__ import annotations

import math
from html import escape

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 400, 70, 20, 40, 50
MAX_LABELLED = 8
CHAR_W = 6.2  # px per character of the 11 px sans-serif labels (to keep them inside the frame)
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round ticks inside [lo, hi] (steps of 1, 2 or 5 times a power of ten: 0, 2, 4 ms, not 2.37)."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / (n - 1)
    step = min((m * 10.0 ** math.floor(math.log10(raw)) for m in (1, 2, 5, 10)), key=lambda s: abs(s - raw))
    first = math.ceil(lo / step - 1e-9)
    return [round(k * step, 12) for k in range(first, math.floor(hi / step + 1e-9) + 1)]


def _log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 steps of each decade inside [lo, hi] (decades only when there are many)."""
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    steps = (1,) if len(decades) > 4 else (1, 2, 5)
    return [m * 10.0 ** d for d in decades for m in steps if lo <= m * 10.0 ** d <= hi]


def wide_spread(values) -> bool:
    """Whether positive values span more than ~1.5 decades: a linear axis would squash the small ones."""
    positive = [v for v in values if v > 0]
    return bool(positive) and max(positive) / min(positive) > 30


class _Axes:
    """Axes over [x0, x1] x [y0, y1] with a frame, ticks, labels and a title; x is logarithmic when ``log_x``.

    ``x_min`` / ``y_min`` / ``y_max`` clamp the padded range where values cannot go (no negative latency, no
    proportion above 1)."""

    def __init__(self, xs, ys, *, title: str, x_label: str, y_label: str, pad: float = 0.08, width: int = W,
                 height: int = H, y_from_zero: bool = False, y_ticks: bool = True, left: int = PAD_L,
                 x_from_zero: bool = False, log_x: bool = False, x_min: float | None = None,
                 y_min: float | None = None, y_max: float | None = None, right: int = PAD_R):
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        if y_from_zero:
            y0 = min(y0, 0.0)
        self.log_x = log_x
        if log_x:  # pad by a fraction of a decade on each side
            self.x0, self.x1 = x0 / 10 ** (pad * 2), x1 * 10 ** (pad * 2)
        else:
            dx = (x1 - x0) or abs(x0) or 1.0
            self.x0, self.x1 = (0.0 if x_from_zero else x0 - pad * dx), x1 + pad * dx
        dy = (y1 - y0) or abs(y0) or 1.0
        self.y0, self.y1 = (y0 if y_from_zero else y0 - 0.1 * dy), y1 + 0.1 * dy
        if x_min is not None and not log_x:
            self.x0 = max(self.x0, x_min)
        if y_min is not None:
            self.y0 = max(self.y0, y_min)
        if y_max is not None:
            self.y1 = min(self.y1, y_max) if self.y0 < y_max else self.y1
        self.w, self.h, self.left, self.right = width, height, left, right
        self.out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                    f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
                    f'<rect width="{width}" height="{height}" fill="white"/>',
                    f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
                    f'<line x1="{self.left}" y1="{height - PAD_B}" x2="{width - right}" y2="{height - PAD_B}" stroke="black"/>',
                    f'<line x1="{self.left}" y1="{PAD_T}" x2="{self.left}" y2="{height - PAD_B}" stroke="black"/>']
        for t in _log_ticks(self.x0, self.x1) if log_x else _ticks(self.x0, self.x1):
            self.out.append(f'<text x="{self.px(t):.1f}" y="{height - PAD_B + 15}" text-anchor="middle">{t:.3g}</text>')
            if log_x:
                self.out.append(f'<line x1="{self.px(t):.1f}" y1="{PAD_T}" x2="{self.px(t):.1f}" '
                                f'y2="{height - PAD_B}" stroke="#eee"/>')
        for t in _ticks(self.y0, self.y1) if y_ticks else ():
            self.out.append(f'<text x="{self.left - 6}" y="{self.py(t) + 4:.1f}" text-anchor="end">{t:.4g}</text>')
            self.out.append(f'<line x1="{self.left}" y1="{self.py(t):.1f}" x2="{width - right}" y2="{self.py(t):.1f}" '
                            'stroke="#eee"/>')
        mid_y = (PAD_T + height - PAD_B) / 2
        self.out.append(f'<text x="{(self.left + width - right) / 2}" y="{height - 12}" text-anchor="middle">'
                        f'{escape(x_label + (" (log scale)" if log_x else ""))}</text>')
        self.out.append(f'<text x="16" y="{mid_y}" text-anchor="middle" transform="rotate(-90 16 {mid_y})">'
                        f'{escape(y_label)}</text>')

    def px(self, x: float) -> float:
        if self.log_x:
            f = (math.log10(max(x, self.x0)) - math.log10(self.x0)) / (math.log10(self.x1) - math.log10(self.x0))
        else:
            f = (x - self.x0) / (self.x1 - self.x0)
        return self.left + f * (self.w - self.left - self.right)

    def py(self, y: float) -> float:
        return self.h - PAD_B - (y - self.y0) / (self.y1 - self.y0) * (self.h - PAD_T - PAD_B)

    def legend(self, i: int, name: str, colour: str) -> None:
        self.out.append(f'<text x="{self.w - self.right - 4}" y="{PAD_T + 14 * (i + 1)}" text-anchor="end" '
                        f'fill="{colour}">{escape(name)}</text>')

    def label(self, x: float, y: float, r: float, text: str, colour: str = "black") -> None:
        """A point's label to its right, or to its left when it would run past the plot's right edge."""
        if x + r + 2 + CHAR_W * len(text) > self.w - self.right:
            self.out.append(f'<text x="{x - r - 2:.1f}" y="{y - 2:.1f}" text-anchor="end" fill="{colour}">'
                            f'{escape(text)}</text>')
        else:
            self.out.append(f'<text x="{x + r + 2:.1f}" y="{y - 2:.1f}" fill="{colour}">{escape(text)}</text>')

    def svg(self) -> str:
        return "\n".join([*self.out, "</svg>"]) + "\n"


def scatter(series: dict[str, list[dict]], *, title: str, x_label: str, y_label: str,
            size_label: str = "", connect: bool = True, y_max: float | None = None) -> str:
    """Points {x, y, size, label} per named series (joined in order when ``connect``); marker area grows with
    ``size``. x is a latency (never below 0; logarithmic when it spans decades); ``y_max`` caps the axis (1 for a
    proportion). Up to MAX_LABELLED points carry their label; more are numbered, with a key beside the plot."""
    points = [p for pts in series.values() for p in pts]
    if not points:
        raise ValueError("a chart needs at least one point")
    numbered = len(points) > MAX_LABELLED
    key_w = int(CHAR_W * max(len(p.get("label", "")) for p in points) + 40) if numbered else 0
    log_x = wide_spread(p["x"] for p in points)
    ax = _Axes([p["x"] for p in points], [p["y"] for p in points], title=title, x_label=x_label, y_label=y_label,
               width=W + key_w, right=PAD_R + key_w, log_x=log_x, x_min=0.0, y_max=y_max,
               y_min=0.0 if y_max is not None else None)
    smax = max(p.get("size", 1.0) for p in points) or 1.0
    n = 0
    for i, (name, pts) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        if connect and len(pts) > 1:
            path = " ".join(f"{ax.px(p['x']):.1f},{ax.py(p['y']):.1f}" for p in pts)
            ax.out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-opacity="0.5"/>')
        for p in pts:
            n += 1
            r = 3 + 9 * (p.get("size", 1.0) / smax) ** 0.5
            x, y, label = ax.px(p["x"]), ax.py(p["y"]), p.get("label", "")
            ax.out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}" fill-opacity="0.6">'
                          f'<title>{escape(label)}</title></circle>')
            ax.label(x, y, r, str(n) if numbered else label)
            if numbered:  # the key: number, artifact, in its series' colour
                ax.out.append(f'<text x="{W - PAD_R + 16}" y="{PAD_T + 14 * n}" fill="{colour}">'
                              f'{n}  {escape(label)}</text>')
        if not numbered:  # numbered: the key's colours say the series (below), off the points
            ax.legend(i, name, colour)
    if numbered:
        ax.out += [f'<text x="{W - PAD_R + 16}" y="{PAD_T + 14 * (n + 2 + i)}" fill="{COLOURS[i % len(COLOURS)]}">'
                   f'{escape(name)}</text>' for i, name in enumerate(series)]
    if size_label:
        ax.out.append(f'<text x="{W - PAD_R - 4}" y="{H - PAD_B - 6}" text-anchor="end" fill="#666">'
                      f'marker area: {escape(size_label)}</text>')
    return ax.svg()


def lines(series: dict[str, list[tuple[float, float]]], *, title: str, x_label: str, y_label: str) -> str:
    """One polyline per named series of (x, y) points, e.g. latency or temperature over time."""
    points = [p for pts in series.values() for p in pts]
    if not points:
        raise ValueError("a chart needs at least one point")
    ax = _Axes([x for x, _ in points], [y for _, y in points], title=title, x_label=x_label, y_label=y_label,
               pad=0.02)
    for i, (name, pts) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{ax.px(x):.1f},{ax.py(y):.1f}" for x, y in pts)
        ax.out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        if len(pts) == 1:
            ax.out.append(f'<circle cx="{ax.px(pts[0][0]):.1f}" cy="{ax.py(pts[0][1]):.1f}" r="3" fill="{colour}"/>')
        ax.legend(i, name, colour)
    return ax.svg()


def boxes(rows: list[tuple[str, list[float]]], *, title: str, x_label: str) -> str:
    """Horizontal distribution per labelled sample list: box p25-p75, line at the median, whiskers p1-p99,
    dots for the runs beyond them (all values drawn, nothing summarised away above p99)."""
    if not rows or not all(v for _, v in rows):
        raise ValueError("a distribution needs at least one value per row")
    import numpy as np

    row_h, top = 26, PAD_T + 6
    left = 12 + 6 * max(len(label) for label, _ in rows)
    height = top + row_h * len(rows) + PAD_B
    allv = np.concatenate([np.asarray(v, float) for _, v in rows])
    hi = float(np.percentile(allv, 99.9))
    # sub-ms boxes beside a 40 ms one (or p99 outliers 40x the median) are slivers on a linear axis
    lo = min(float(np.percentile(np.asarray(v, float), 1)) for _, v in rows)
    log_x = lo > 0 and wide_spread([lo, hi])
    ax = _Axes([lo if log_x else 0.0, hi], [0.0, 1.0], title=title, x_label=x_label, y_label="", height=height,
               pad=0.02, y_ticks=False, left=left, x_from_zero=not log_x, log_x=log_x, right=PAD_R + 60)
    for i, (label, values) in enumerate(rows):
        v = np.asarray(values, float)
        p1, p25, p50, p75, p99 = np.percentile(v, [1, 25, 50, 75, 99])
        y = top + row_h * i + row_h / 2
        colour = COLOURS[i % len(COLOURS)]
        ax.out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
        ax.out.append(f'<line x1="{ax.px(p1):.1f}" y1="{y:.1f}" x2="{ax.px(p99):.1f}" y2="{y:.1f}" stroke="{colour}"/>')
        ax.out.append(f'<rect x="{ax.px(p25):.1f}" y="{y - 8:.1f}" width="{max(ax.px(p75) - ax.px(p25), 1):.1f}" '
                      f'height="16" fill="{colour}" fill-opacity="0.35" stroke="{colour}">'
                      f'<title>{escape(label)}: p25 {p25:.4g}, p50 {p50:.4g}, p75 {p75:.4g}, p99 {p99:.4g}</title></rect>')
        ax.out.append(f'<line x1="{ax.px(p50):.1f}" y1="{y - 8:.1f}" x2="{ax.px(p50):.1f}" y2="{y + 8:.1f}" '
                      'stroke="black" stroke-width="2"/>')
        for x in v[(v > p99) & (v <= hi)][:50]:
            ax.out.append(f'<circle cx="{ax.px(x):.1f}" cy="{y:.1f}" r="2" fill="{colour}"/>')
        beyond = int(np.sum(v > hi))
        if beyond:
            ax.out.append(f'<text x="{W - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#666">+{beyond} beyond</text>')
    return ax.svg()
