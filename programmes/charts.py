"""Geometry of the horizontal stacked bar charts on the programme lead's
dashboard.

The page draws the charts as inline SVG from this geometry, so a chart needs
no script, no external file and no inline style, and the site's
Content-Security-Policy (``default-src 'self'``) stays as it is. Each bar is
scaled to its own total, so learners on variants with different numbers of
competencies compare by share done.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from programmes.progress import CohortProgress, LearnerProgress

ROW_HEIGHT = 22
BAR_HEIGHT = 16
LABEL_WIDTH = 260
BAR_WIDTH = 400
VALUE_WIDTH = 70
AXIS_HEIGHT = 20

# Green and blue contrast at least 5:1 with white. The light grey (about 2:1)
# is only the rest of the bar, and the page's table gives every figure as text.
SEGMENT_COLOURS = {
    "done": "#00703c",
    "awaiting": "#1d70b8",
    "remaining": "#b1b4b6",
}
SEGMENT_LABELS = {
    "done": "Signed off or counted",
    "awaiting": "Awaiting sign-off",
    "remaining": "Evidence still missing",
}


@dataclass(frozen=True)
class Segment:
    """One part of a bar, in SVG user units from the bar's left end."""

    kind: str
    value: int
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class Bar:
    label: str
    total: int
    done: int
    y: int
    segments: tuple[Segment, ...]

    @property
    def percent_done(self) -> float:
        return round(100 * self.done / self.total, 1) if self.total else 0.0

    @property
    def summary(self) -> str:
        """The bar's figures in words, for its SVG ``<title>`` tooltip."""
        parts = ", ".join(
            f"{segment.value} {SEGMENT_LABELS[segment.kind].lower()}"
            for segment in self.segments
        )
        return f"{self.label}: {self.done} of {self.total} done ({parts})"


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: tuple[Bar, ...]
    kinds: tuple[str, ...]

    label_width: int = LABEL_WIDTH
    bar_width: int = BAR_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def width(self) -> int:
        return LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH

    @property
    def height(self) -> int:
        return AXIS_HEIGHT + ROW_HEIGHT * len(self.bars)

    @property
    def legend(self) -> tuple[tuple[str, str], ...]:
        """(label, colour) of each segment kind, in drawing order."""
        return tuple(
            (SEGMENT_LABELS[kind], SEGMENT_COLOURS[kind]) for kind in self.kinds
        )


def stacked_bar_chart(
    title: str, rows: Sequence[tuple[str, Sequence[tuple[str, int]]]]
) -> BarChart:
    """Lay out one bar per ``(label, [(kind, value), ...])`` row.

    The first part of each row is the share drawn as done. Kinds come from
    :data:`SEGMENT_COLOURS`, and a zero value gets no segment.
    """
    bars = []
    kinds: dict[str, None] = {}
    for index, (label, parts) in enumerate(rows):
        total = sum(value for _, value in parts)
        segments = []
        x = 0.0
        for kind, value in parts:
            kinds[kind] = None
            if value <= 0 or total == 0:
                continue
            width = round(BAR_WIDTH * value / total, 2)
            segments.append(Segment(kind, value, x, width, SEGMENT_COLOURS[kind]))
            x = round(x + width, 2)
        bars.append(
            Bar(
                label=label,
                total=total,
                done=parts[0][1] if parts else 0,
                y=AXIS_HEIGHT + ROW_HEIGHT * index,
                segments=tuple(segments),
            )
        )
    return BarChart(title=title, bars=tuple(bars), kinds=tuple(kinds))


def learner_parts(learner: LearnerProgress) -> list[tuple[str, int]]:
    """Split a learner's competencies into done, awaiting and remaining."""
    done = learner.signed_off + learner.counted
    remaining = learner.competencies - done - learner.awaiting_sign_off
    return [
        ("done", done),
        ("awaiting", learner.awaiting_sign_off),
        ("remaining", remaining),
    ]


def learner_chart(learners: Sequence[LearnerProgress]) -> BarChart:
    """Lay out one bar per learner, in the order given."""
    return stacked_bar_chart(
        "Progress per learner",
        [
            (f"{learner.learner} ({learner.reference})", learner_parts(learner))
            for learner in learners
        ],
    )


def cohort_chart(progress: CohortProgress) -> BarChart:
    """Lay out a bar for the whole cohort, then one per competency domain."""
    totals = progress.totals()
    done = totals["signed_off"] + totals["counted"]
    rows: list[tuple[str, Sequence[tuple[str, int]]]] = [
        (
            "Whole cohort",
            [
                ("done", done),
                ("awaiting", totals["awaiting_sign_off"]),
                (
                    "remaining",
                    totals["competencies"] - done - totals["awaiting_sign_off"],
                ),
            ],
        )
    ]
    for domain, (domain_done, domain_total) in domain_totals(progress).items():
        rows.append(
            (
                f"{domain.capitalize()} competencies",
                [("done", domain_done), ("remaining", domain_total - domain_done)],
            )
        )
    return stacked_bar_chart("Progress of the cohort", rows)


def domain_totals(progress: CohortProgress) -> dict[str, tuple[int, int]]:
    """Return (done, competencies) per domain, summed over the learners."""
    sums: dict[str, list[int]] = {}
    for learner in progress.learners:
        for domain, figures in learner.by_domain.items():
            entry = sums.setdefault(domain, [0, 0])
            entry[0] += figures.get("done", 0)
            entry[1] += figures.get("competencies", 0)
    return {domain: (done, total) for domain, (done, total) in sorted(sums.items())}
