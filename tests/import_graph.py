"""The project's import graph, read from the source with ``ast`` (nothing is imported), and its rules.

Every ``import`` / ``from ... import`` counts, at module level or inside a function (a lazy import
is still an arrow). ``from package import name`` counts as an arrow to ``package.name`` when that is
a module, else to ``package``. The rules are the README's "Architecture" section.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

CORE = "poselifter_core"
NODE = "poselifter_ros"

#: Layers of the core, bottom first: a module may import its own layer and the layers below.
#: The key is the first component below ``poselifter_core`` (a subpackage or a top-level module).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "skeleton", "visibility", "camera", "distortion", "config", "settings", "digest", "metrics", "floor", "floor_fit",
     "integrity", "plausibility", "head_location"),
    ("runtime", "mocap", "data", "baselines"),
    ("lifter", "pose2d", "noise"),
    ("cascade", "evaluate", "train", "experiments", "shipped", "viz", "tracking"),
    ("rosmsg", "infer", "benchmark"),
    ("cli", "__main__"),
)
#: Imports the core must never make: ROS client libraries, launch, ROS message packages, the node.
ROS_ONLY = ("rclpy", "launch", "launch_ros", "rosidl_runtime_py", "builtin_interfaces", "std_msgs", "sensor_msgs",
            "geometry_msgs", "vision_msgs", "visualization_msgs", "diagnostic_msgs", "poselifter_msgs", NODE)
#: Modules of the lifter package that run it on a backend (or read what its export declares); the
#: rest of ``lifter`` (the network, normalization, canonical depth, loss, checkpoints) knows no backend.
LIFTER_ON_BACKENDS = ("poselifter_core.lifter.export", "poselifter_core.lifter.metadata", "poselifter_core.lifter.runtime",
                      "poselifter_core.lifter.weights")


@dataclass
class ImportGraph:
    modules: dict[str, Path]
    edges: set[tuple[str, str]] = field(default_factory=set)  # (importer, imported), both project modules
    external: dict[str, set[str]] = field(default_factory=dict)  # importer -> top-level names outside the project

    def unit(self, module: str) -> str:
        """The layer unit of a core module: ``poselifter_core.lifter.model`` -> ``lifter``."""
        parts = module.split(".")
        return "__init__" if len(parts) == 1 else parts[1]


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def read_graph(root: Path, packages: tuple[str, ...] = (CORE, NODE)) -> ImportGraph:
    """The import graph of ``packages`` (folders under ``root``)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            modules[_module_name(root, path)[0]] = path
    graph = ImportGraph(modules)
    for module, path in modules.items():
        _, is_package = _module_name(root, path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for target in _targets(module, is_package, node):
                if target.split(".")[0] not in packages:
                    graph.external.setdefault(module, set()).add(target.split(".")[0])
                    continue
                while target not in modules and "." in target:  # a name imported from a module
                    target = target.rsplit(".", 1)[0]
                if target in modules and target != module:
                    graph.edges.add((module, target))
    return graph


def _targets(module: str, is_package: bool, node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    return [f"{prefix}.{alias.name}" for alias in node.names]


def cycles(nodes: set[str], edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        successors[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(successors[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(successors[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def violations(graph: ImportGraph) -> list[str]:
    """Every broken rule, one line each; empty when the graph keeps the architecture."""
    layer_of = {unit: level for level, units in enumerate(LAYERS) for unit in units}
    core = {m for m in graph.modules if m.split(".")[0] == CORE}
    found = []
    for module in sorted(core):
        for name in sorted(graph.external.get(module, set()) & set(ROS_ONLY)):
            found.append(f"{module} imports {name}: the core must run without ROS")
    for a, b in sorted(graph.edges):
        if a not in core:
            continue
        if b not in core:
            found.append(f"{a} imports {b}: the core must not import the ROS node")
            continue
        unit_a, unit_b = graph.unit(a), graph.unit(b)
        if unit_a == "runtime" and unit_b in ("lifter", "pose2d"):
            found.append(f"{a} imports {b}: runtime is model-agnostic (no lifter, no pose2d)")
        elif unit_a == "lifter" and unit_b == "runtime" and a not in LIFTER_ON_BACKENDS:
            found.append(f"{a} imports {b}: the lifter's network knows no backend (only {LIFTER_ON_BACKENDS} may)")
        elif unit_a not in layer_of or unit_b not in layer_of:
            unknown = unit_a if unit_a not in layer_of else unit_b
            found.append(f"{a} imports {b}: {unknown!r} has no layer; add it to LAYERS in tests/import_graph.py "
                         f"and to the README's architecture section")
        elif layer_of[unit_b] > layer_of[unit_a]:
            found.append(f"{a} imports {b}: upward arrow (layer {layer_of[unit_a]} -> {layer_of[unit_b]})")
    for component in cycles(set(graph.modules), graph.edges):
        found.append(f"import cycle between modules: {' -> '.join(component)}")
    units = {graph.unit(m) for m in core}
    unit_edges = {(graph.unit(a), graph.unit(b)) for a, b in graph.edges
                  if a in core and b in core and graph.unit(a) != graph.unit(b)}
    for component in cycles(units, unit_edges):
        found.append(f"import cycle between packages of the core: {' -> '.join(component)}")
    return found
