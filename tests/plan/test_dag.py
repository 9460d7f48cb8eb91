from vidassets.plan import dag


def test_topological_order_is_stable_and_respects_dependencies() -> None:
    edges = {"m": ("a", "b"), "a": (), "b": (), "r": ("m",), "s": ("m",)}
    order = dag.topological_order(edges)
    assert order.index("a") < order.index("m") and order.index("b") < order.index("m")
    assert order.index("m") < order.index("r") and order.index("m") < order.index("s")
    assert order[:2] == ["a", "b"]


def test_cycles_found_and_rejected() -> None:
    edges = {"a": ("c",), "b": ("a",), "c": ("b",), "d": ()}
    cycle = dag.find_cycle(edges)
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert dag.find_cycle({"a": (), "b": ("a",)}) is None
    try:
        dag.topological_order(edges)
    except ValueError:
        pass
    else:
        raise AssertionError("cycle not rejected")


def test_descendants_and_sinks() -> None:
    edges = {"a": (), "b": (), "m": ("a", "b"), "r": ("m",), "s": ("m",), "x": ("r",)}
    assert dag.descendants(edges, ["m"]) == {"m", "r", "s", "x"}
    assert dag.sinks(edges) == ["s", "x"]
