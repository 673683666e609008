"""A batch's custody path as an SVG image: who held it, what moved where, what was dispensed.

Holders are boxes in columns by role (manufacturer, distributors, dispensers, then patients);
arrows carry the quantities shipped, summed per pair and outcome (received, still in transit,
cancelled), and the packs dispensed. A holder that raised a counterfeit alarm is outlined in red,
and a recalled or quarantined batch says so in the title. Plain SVG, so any browser opens it and
nothing beyond the standard library is needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from html import escape

from medledger.client.batches import CustodyStep

PATIENTS = "patients"
COLUMN_OF = {"manufacturer": 0, "distributor": 1, "pharmacy": 2, "hospital": 2, PATIENTS: 3}
BOX_W, BOX_H, COL_GAP, ROW_GAP, MARGIN, TOP = 190, 46, 120, 36, 24, 56
STYLE = {"received": ("#1f2937", ""), "in transit": ("#d97706", "6 4"), "cancelled": ("#9ca3af", "3 3"),
         "dispensed": ("#047857", "")}  # fmt: skip


def _flows(steps: Sequence[CustodyStep]) -> dict[tuple[str, str, str], int]:
    """Quantities moved, per (from, to, outcome)."""
    outcome = {s.shipment_id: s.step for s in steps if s.step in ("receiving", "cancelled")}
    flows: dict[tuple[str, str, str], int] = defaultdict(int)
    for s in steps:
        if s.step == "shipping" and s.counterparty is not None:
            done = outcome.get(s.shipment_id)
            label = "received" if done == "receiving" else "cancelled" if done == "cancelled" else "in transit"
            flows[(s.actor, s.counterparty, label)] += s.quantity or 0
        elif s.step == "dispensing":
            flows[(s.actor, PATIENTS, "dispensed")] += s.quantity or 0
    return flows


def custody_svg(steps: Sequence[CustodyStep], kinds: dict[str, str], title: str) -> str:
    """The SVG of ``steps`` (one batch's history, oldest first); ``kinds`` names each holder's kind."""
    flows = _flows(steps)
    alarmed = {s.actor for s in steps if s.step == "suspect"}
    holds = [s.step for s in steps if s.step in ("quarantined", "released", "recalled")]
    state = {"recalled": "RECALLED", "quarantined": "QUARANTINED"}.get(holds[-1] if holds else "", "")
    order: list[str] = []
    for s in steps:
        for party in (s.actor, s.counterparty) if s.step in ("commissioning", "shipping", "dispensing") else ():
            if party and party not in order:
                order.append(party)
    if any(to == PATIENTS for _, to, _ in flows):
        order.append(PATIENTS)
    rows: dict[int, int] = defaultdict(int)
    place: dict[str, tuple[int, int]] = {}
    for party in order:
        column = COLUMN_OF.get(PATIENTS if party == PATIENTS else kinds.get(party, "distributor"), 1)
        place[party] = (MARGIN + column * (BOX_W + COL_GAP), TOP + rows[column] * (BOX_H + ROW_GAP))
        rows[column] += 1
    width = MARGIN * 2 + 4 * BOX_W + 3 * COL_GAP
    height = TOP + max(rows.values(), default=1) * (BOX_H + ROW_GAP) + MARGIN
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           f'font-size="12">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="context-stroke"/></marker></defs>',
           f'<text x="{MARGIN}" y="28" font-size="16" font-weight="bold">{escape(title)}'
           + (f' <tspan fill="#b91c1c">{state}</tspan>' if state else "") + "</text>"]  # fmt: skip
    for index, ((source, target, label), quantity) in enumerate(sorted(flows.items())):
        (x1, y1), (x2, y2) = place[source], place[target]
        colour, dash = STYLE[label]
        lift = 6 * (index % 3)  # parallel arrows between one pair stay apart
        start: tuple[float, float] = (x1 + BOX_W, y1 + BOX_H / 2 + lift)
        end: tuple[float, float] = (x2, y2 + BOX_H / 2 + lift)
        if x2 <= x1:  # same column (a return or a sideways move): loop under the boxes
            start, end = (x1 + BOX_W / 2, y1 + BOX_H), (x2 + BOX_W / 2, y2 + BOX_H)
        out.append(f'<line x1="{start[0]:.0f}" y1="{start[1]:.0f}" x2="{end[0]:.0f}" y2="{end[1]:.0f}" '
                   f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}" marker-end="url(#arrow)"/>')  # fmt: skip
        out.append(f'<text x="{(start[0] + end[0]) / 2:.0f}" y="{(start[1] + end[1]) / 2 - 5:.0f}" '
                   f'text-anchor="middle" fill="{colour}">{quantity} {label}</text>')  # fmt: skip
    for party, (x, y) in place.items():
        kind = PATIENTS if party == PATIENTS else kinds.get(party, "member")
        stroke = "#b91c1c" if party in alarmed else "#374151"
        caption = "" if party == PATIENTS else f"{party[:8]}…{party[-4:]}"
        alarm = ' <tspan fill="#b91c1c">⚠ alarm</tspan>' if party in alarmed else ""
        out.append(f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="#f9fafb" stroke="{stroke}" '
                   f'stroke-width="{3 if party in alarmed else 1.5}"/>')  # fmt: skip
        out.append(f'<text x="{x + 10}" y="{y + 19}" font-weight="bold">{escape(kind)}{alarm}</text>')
        out.append(f'<text x="{x + 10}" y="{y + 36}" fill="#4b5563">{escape(caption)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
