"""Drawing a definition as an SVG diagram, laid out from its block structure.

A sequence stacks its steps top to bottom. A parallel block and a decision
put their branches side by side between a split bar and a join bar. A
repeat draws a frame labelled with its period around its body. Everything is
computed here, so the page needs no script and no external library.
"""

from dataclasses import dataclass
from html import escape

from workflows.definitions import ROOT, Definition, Node

BOX_WIDTH = 230
BOX_HEIGHT = 46
GAP = 18
PAD = 14
BAR = 6
KIND_CLASS = {
    "task": "step-task",
    "handoff": "step-handoff",
    "wait": "step-wait",
    "call": "step-call",
}


@dataclass
class Shape:
    width: int
    height: int
    parts: list[str]

    def moved(self, dx: int, dy: int) -> list[str]:
        return [f'<g transform="translate({dx},{dy})">{"".join(self.parts)}</g>']


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" class="flow"/>'


def _text(x: float, y: float, content: str, css: str = "label") -> str:
    return f'<text x="{x:.0f}" y="{y:.0f}" class="{css}">{escape(content)}</text>'


def _clip(content: str, limit: int = 34) -> str:
    return content if len(content) <= limit else content[: limit - 1] + "…"


def _step(node: Node) -> Shape:
    spec = node.spec
    title = _clip(str(spec.get("title") or node.id))
    detail = ""
    if "participant" in spec:
        detail = (
            f"{spec['participant']['role']} · {spec['participant']['organisation']}"
        )
    elif node.kind == "wait":
        detail = f"wait {spec['timing']['duration']}"
    elif node.kind == "call":
        detail = f"protocol {spec['definition']}"
    if spec.get("timing", {}).get("due"):
        detail += f" · due {spec['timing']['due']}"
    css = KIND_CLASS.get(node.kind, "step-task")
    parts = [
        f'<rect width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6" class="{css}">'
        f"<title>{escape(node.id)}</title></rect>",
        _text(8, 18, title),
        _text(8, 36, _clip(detail, 40), "detail"),
    ]
    return Shape(BOX_WIDTH, BOX_HEIGHT, parts)


def _sequence(definition: Definition, children: tuple[str, ...]) -> Shape:
    shapes = [_layout(definition, definition.node(child)) for child in children]
    if not shapes:
        return Shape(BOX_WIDTH // 2, 10, [])
    width = max(shape.width for shape in shapes)
    parts: list[str] = []
    y = 0
    for index, shape in enumerate(shapes):
        x = (width - shape.width) // 2
        parts += shape.moved(x, y)
        y += shape.height
        if index < len(shapes) - 1:
            parts.append(_line(width / 2, y, width / 2, y + GAP))
            y += GAP
    return Shape(width, y, parts)


def _branches(definition: Definition, node: Node, labels: list[str]) -> Shape:
    columns = [_layout(definition, definition.node(child)) for child in node.children]
    width = sum(shape.width for shape in columns) + GAP * (len(columns) - 1)
    body = max(shape.height for shape in columns)
    label_room = 16 if any(labels) else 0
    top = BAR + GAP + label_room
    parts = [f'<rect x="0" y="0" width="{width}" height="{BAR}" class="bar"/>']
    x = 0
    for shape, label in zip(columns, labels, strict=True):
        centre = x + shape.width / 2
        parts.append(_line(centre, BAR, centre, top))
        if label:
            parts.append(_text(centre + 4, BAR + 14, _clip(label, 28), "condition"))
        parts += shape.moved(x, top)
        end = top + shape.height
        parts.append(_line(centre, end, centre, top + body + GAP))
        x += shape.width + GAP
    join = top + body + GAP
    parts.append(f'<rect x="0" y="{join}" width="{width}" height="{BAR}" class="bar"/>')
    rule = node.spec.get("selectionBehavior", "first")
    parts.append(_text(width + 4, BAR, f"{node.kind} ({rule})", "detail"))
    return Shape(width + 90, join + BAR, parts)


def _branch_labels(node: Node) -> list[str]:
    labels = []
    for branch in node.spec["branch"]:
        if "band" in branch:
            labels.append(f"band {branch['band']}")
        elif "condition" in branch:
            labels.append(str(branch["condition"]))
        else:
            labels.append("otherwise")
    return labels


def _repeat(definition: Definition, node: Node) -> Shape:
    body = _sequence(definition, node.children)
    spec = node.spec
    label = f"every {spec['timing']['every']}" if "timing" in spec else "loop"
    if "until" in spec:
        label += f" until {spec['until']}"
    width = body.width + 2 * PAD
    height = body.height + 2 * PAD + 16
    parts = [
        f'<rect width="{width}" height="{height}" rx="10" class="repeat"/>',
        _text(PAD, 14, _clip(label, 48), "condition"),
        *body.moved(PAD, PAD + 16),
    ]
    return Shape(width, height, parts)


def _layout(definition: Definition, node: Node) -> Shape:
    if node.kind == "sequence":
        return _sequence(definition, node.children)
    if node.kind == "parallel":
        return _branches(definition, node, [""] * len(node.children))
    if node.kind == "decision":
        return _branches(definition, node, _branch_labels(node))
    if node.kind == "repeat":
        return _repeat(definition, node)
    return _step(node)


def protocol_svg(definition: Definition) -> str:
    """Return the definition drawn as a standalone SVG element."""
    shape = _sequence(definition, definition.node(ROOT).children)
    width, height = shape.width + 2 * PAD, shape.height + 2 * PAD
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="protocol-diagram" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(definition.title)} as a diagram">'
        f"{''.join(shape.moved(PAD, PAD))}</svg>"
    )
