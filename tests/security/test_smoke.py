"""The security suite's own plumbing: the namespace gives a foreign address
and a node answers a client connecting from loopback."""


def test_node_answers_on_loopback(node_factory, foreign_addr):
    n = node_factory()
    assert n.client().ping()
    assert foreign_addr == "10.99.0.1"
