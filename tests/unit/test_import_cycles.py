"""House rule: no import cycles between ragtune's modules, lazy imports included."""

from tests.helpers.import_cycles import cycles, import_graph


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 100 and graph["ragtune.project"]  # the whole package was read
    assert cycles(graph) == []


def test_the_check_finds_a_lazy_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
