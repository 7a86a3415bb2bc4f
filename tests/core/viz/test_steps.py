"""autograd_core.viz.steps and .player: backward_trace matches backward(), one frame per node with inputs, and the
frames players (HTML, ipywidgets, GIF)."""

import base64
import html
import re
import shutil

import pytest

from autograd_core import Value, dot, sum_values, topological_order
from autograd_core.viz import (StepsPlayer, backward_steps, backward_trace, play_frames,
                                     save_gif)

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def expressions():
    """Graphs with shared nodes, x*x, n-ary nodes and constants: where accumulation order matters."""
    a, b, c = Value(0.7, "a"), Value(-1.3, "b"), Value(2.1, "c")
    shared = a * b + c
    yield "shared", (shared * shared + shared.tanh()).exp() / (1.0 + b ** 2)
    yield "dot", dot([a, b], [c, shared], a).sigmoid() - sum_values([a, a, b, shared]).relu()
    yield "leaf chain", (a.sin() * c.cos() + c.log() - abs(-a) + 2.0 ** a).softplus() * c.sqrt()


def final_grads(root, gradient=1.0) -> dict:
    grads = {root: gradient}
    for step in backward_trace(root, gradient):
        grads.update(zip(step.node.parents, step.parent_grads))
    return grads


def leaves_of(root):
    return [v for v in topological_order(root) if v.is_leaf]


@pytest.mark.parametrize("name, root", list(expressions()), ids=[n for n, _ in expressions()])
def test_backward_trace_final_grads_equal_backward_exactly(name, root):
    traced = final_grads(root)
    for v in topological_order(root):
        v.grad = 0.0
    root.backward()
    wrong = [(v.label, traced[v], v.grad) for v in topological_order(root) if traced[v] != v.grad]
    assert not wrong, f"{name}: (label, traced, backward) differ: {wrong}"


def test_backward_trace_uses_the_seed_gradient():
    x = Value(3.0, "x")
    assert final_grads(x * 2.0, gradient=0.5)[x] == 1.0


def test_backward_trace_leaves_grad_untouched():
    a, b = Value(1.5, "a"), Value(2.0, "b")
    root = (a * b).tanh()
    list(backward_trace(root))
    assert [v.grad for v in topological_order(root)] == [0.0] * 4


def test_backward_trace_visits_nodes_with_inputs_in_reverse_topological_order():
    root = dict(expressions())["shared"]
    expected = [v for v in reversed(topological_order(root)) if not v.is_leaf]
    assert [s.node for s in backward_trace(root)] == expected


def test_backward_trace_local_grads_are_the_op_rules():
    a, b = Value(3.0, "a"), Value(4.0, "b")
    (step,) = backward_trace(a * b)
    assert step.local_grads == (4.0, 3.0), f"d(ab)/da, d(ab)/db: expected (4, 3), got {step.local_grads}"


def test_backward_trace_of_a_leaf_raises_with_advice():
    with pytest.raises(ValueError, match=r"is a leaf .* e\.g\. backward_steps\(x \* 2 \+ 1\)"):
        backward_trace(Value(1.0))


def test_backward_steps_gives_one_frame_per_node_with_inputs():
    for name, root in expressions():
        expected = sum(not v.is_leaf for v in topological_order(root))
        frames = list(backward_steps(root))
        assert len(frames) == expected, f"{name}: expected {expected} frames, got {len(frames)}"


def test_backward_steps_highlights_the_current_node_and_names_the_step():
    a, b = Value(2.0, "a"), Value(3.0, "b")
    product = a * b
    product.label = "p"
    frames = list(backward_steps(product + 1.0))
    lit = re.findall(r"<B>(\w)</B>[^\n]*penwidth=3", frames[1].source)
    assert sorted(lit) == ["a", "b", "p"], f"step 2 should light p and its inputs a, b; got {lit}"
    assert "<B>Step&#160;2&#160;of&#160;2</B>" in frames[1].source


def test_backward_steps_fill_in_gradients_as_they_are_reached():
    root = dict(expressions())["shared"]
    unknown = [f.source.count("grad ?") for f in backward_steps(root)]
    assert unknown == sorted(unknown, reverse=True) and unknown[-1] == 0, unknown


def test_backward_steps_show_each_local_derivative_on_its_edge():
    a, b = Value(3.0, "a"), Value(4.0, "b")
    (frame,) = backward_steps(a * b)
    assert "label=\"∂ 4\"" in frame.source and "label=\"∂ 3\"" in frame.source, frame.source


def test_backward_steps_leaves_grad_untouched():
    a = Value(1.5, "a")
    root = a * a + 1.0
    list(backward_steps(root))
    assert a.grad == 0.0


def test_backward_steps_refuses_a_graph_too_big_to_follow():
    root = sum_values([Value(float(i)) * 2.0 for i in range(100)])
    with pytest.raises(ValueError, match=r"301 values, more than max_nodes=60. Step through a smaller"):
        backward_steps(root)


def test_backward_steps_checks_the_root_before_the_first_frame():
    with pytest.raises(ValueError, match="is a leaf"):
        backward_steps(Value(2.0))


@needs_dot
def test_play_frames_html_holds_one_svg_per_frame_and_a_slider():
    a = Value(2.0, "a")
    frames = list(backward_steps((a * 3.0).tanh()))
    player = play_frames(frames, mode="html")
    page = player._repr_html_()
    assert isinstance(player, StepsPlayer) and page.count("<svg") == len(frames) == 2
    assert 'type="range" min="1" max="2"' in page and page.count('class="agc-step"') == 2


@needs_dot
def test_play_frames_html_is_deterministic():
    def page():
        a = Value(2.0, "a")
        return play_frames(backward_steps((a * 3.0).tanh()), mode="html").html()
    assert page() == page()


@needs_dot
def test_backward_steps_caption_runs_keep_their_spaces_in_svg():
    # Browsers drop the spaces at either end of an SVG <text>; dot writes each bold/plain run as one.
    a, b = Value(2.0, "a"), Value(3.0, "b")
    product = a * b
    product.label = "p"
    svg = list(backward_steps(product + 1.0))[1].pipe(format="svg").decode("utf-8")
    runs = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    trimmed = [r for r in runs if r != r.strip(" ")]
    assert not trimmed, f"SVG text runs starting or ending with a plain space: {trimmed}"


@needs_dot
def test_play_frames_html_shows_step_1_as_a_still_picture_without_scripts():
    # An untrusted notebook runs no scripts and strips inline SVG, but keeps an <img> with a data URL.
    player = play_frames(backward_steps((Value(2.0, "a") * 3.0).tanh()), mode="html")
    page = player.html()
    still = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert still and base64.b64decode(still.group(1)).decode("utf-8") == player.svgs[0], (
        "the still should be step 1's SVG as a data URL")
    assert '<div class="agc-live" style="display:none">' in page and "<script>" in page, (
        "the controls should stay hidden until the player's script runs")


@needs_dot
def test_play_frames_frames_shrink_to_fit_the_output_area():
    player = play_frames(backward_steps((Value(2.0, "a") * 3.0).tanh()), mode="html")
    unfit = [svg[:80] for svg in player.svgs if not svg.startswith('<svg style="max-width:100%;height:auto"')]
    assert not unfit, f"frames without max-width:100%: {unfit}"


@needs_dot
def test_play_frames_save_html_writes_a_standalone_page(tmp_path):
    path = tmp_path / "steps.html"
    play_frames(backward_steps(Value(2.0, "a") * 3.0), mode="html").save_html(path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text


@needs_dot
def test_play_frames_widget_mode_gives_a_slider_that_changes_the_picture():
    widgets = pytest.importorskip("ipywidgets")
    a = Value(2.0, "a")
    box = play_frames(backward_steps((a * 3.0).tanh()), mode="widget")
    (_, slider), view = box.children[0].children, box.children[1]
    first = view.value
    slider.value = 2
    assert isinstance(slider, widgets.IntSlider) and slider.max == 2 and view.value != first
    assert view.value.startswith('<svg style="max-width:100%'), "the widget's frame should fit its area"


def test_play_frames_without_frames_raises():
    with pytest.raises(ValueError, match="no frames to play"):
        play_frames([], mode="html")


@needs_dot
def test_save_gif_writes_one_image_per_frame(tmp_path):
    image = pytest.importorskip("PIL.Image")
    frames = list(backward_steps((Value(2.0, "a") * 3.0).tanh()))
    save_gif(frames, tmp_path / "steps.gif")
    with image.open(tmp_path / "steps.gif") as gif:
        assert gif.n_frames == len(frames) == 2
