"""Small self-contained SVG charts (no plotting library, no network): they embed in Markdown viewers and HTML."""

from __future__ import annotations

from html import escape

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 400, 70, 20, 40, 50
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def scatter(series: dict[str, list[dict]], *, title: str, x_label: str, y_label: str,
            size_label: str = "") -> str:
    """Points {x, y, size, label} per named series, joined in order; marker area grows with ``size``."""
    points = [p for pts in series.values() for p in pts]
    if not points:
        raise ValueError("a chart needs at least one point")
    xs, ys, sizes = [p["x"] for p in points], [p["y"] for p in points], [p.get("size", 1.0) for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    dx, dy = (x1 - x0) or abs(x0) or 1.0, (y1 - y0) or abs(y0) or 1.0
    x0, x1, y0, y1 = x0 - 0.08 * dx, x1 + 0.08 * dx, y0 - 0.1 * dy, y1 + 0.1 * dy
    smax = max(sizes) or 1.0

    def px(x):
        return PAD_L + (x - x0) / (x1 - x0) * (W - PAD_L - PAD_R)

    def py(y):
        return H - PAD_B - (y - y0) / (y1 - y0) * (H - PAD_T - PAD_B)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
           f'<line x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}" stroke="black"/>',
           f'<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{H - PAD_B}" stroke="black"/>']
    for t in _ticks(x0, x1):
        out.append(f'<text x="{px(t):.1f}" y="{H - PAD_B + 15}" text-anchor="middle">{t:.3g}</text>')
    for t in _ticks(y0, y1):
        out.append(f'<text x="{PAD_L - 6}" y="{py(t) + 4:.1f}" text-anchor="end">{t:.4g}</text>')
        out.append(f'<line x1="{PAD_L}" y1="{py(t):.1f}" x2="{W - PAD_R}" y2="{py(t):.1f}" stroke="#eee"/>')
    out.append(f'<text x="{(PAD_L + W - PAD_R) / 2}" y="{H - 12}" text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text x="16" y="{(PAD_T + H - PAD_B) / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {(PAD_T + H - PAD_B) / 2})">{escape(y_label)}</text>')
    for i, (name, pts) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        if len(pts) > 1:
            path = " ".join(f"{px(p['x']):.1f},{py(p['y']):.1f}" for p in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-opacity="0.5"/>')
        for p in pts:
            r = 3 + 9 * (p.get("size", 1.0) / smax) ** 0.5
            out.append(f'<circle cx="{px(p["x"]):.1f}" cy="{py(p["y"]):.1f}" r="{r:.1f}" fill="{colour}" '
                       f'fill-opacity="0.6"><title>{escape(p.get("label", ""))}</title></circle>')
            out.append(f'<text x="{px(p["x"]) + r + 2:.1f}" y="{py(p["y"]) - 2:.1f}">{escape(p.get("label", ""))}</text>')
        out.append(f'<text x="{W - PAD_R - 4}" y="{PAD_T + 14 * (i + 1)}" text-anchor="end" fill="{colour}">'
                   f'{escape(name)}</text>')
    if size_label:
        out.append(f'<text x="{W - PAD_R - 4}" y="{H - PAD_B - 6}" text-anchor="end" fill="#666">'
                   f'marker area: {escape(size_label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
