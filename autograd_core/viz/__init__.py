"""Drawing: a Value's graph (graph.py, in style.py's look) and backward step by step (steps.py,
played by player.py). graphviz is imported on first use; notebooks 01 and 02 draw with these.
"""

from .graph import Plan, draw_dot, draw_graph, emit, path_between
from .player import StepsPlayer, play_frames, save_gif
from .steps import BackwardStep, backward_steps, backward_trace
from .style import (GraphvizNotFound, HIGHLIGHT, INSTALL_HELP, NEGATIVE, OP_FILL, POSITIVE, ROLE_FILL,
                    escape, fmt, grad_fill, graph_class, legend, new_graph, op_symbol)

__all__ = [
    "BackwardStep", "GraphvizNotFound", "HIGHLIGHT", "INSTALL_HELP", "NEGATIVE", "OP_FILL",
    "POSITIVE", "Plan", "ROLE_FILL", "StepsPlayer", "backward_steps", "backward_trace", "draw_dot",
    "draw_graph", "emit", "escape", "fmt", "grad_fill", "graph_class", "legend", "new_graph",
    "op_symbol", "path_between", "play_frames", "save_gif",
]
