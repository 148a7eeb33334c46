"""coverage: every class in the installed torch.nn is in the catalog, or placed out
of it in properties/catalog/scope.py with a reason; stale placements fail
(nnparity/checks/coverage.py)."""

from nnparity.checks import coverage


def test_every_torch_nn_class_is_placed_once_with_a_reason(request):
    catalog = request.config.nnparity_catalog
    problems = coverage.problems(catalog)
    assert not problems, "\n".join(problems) + "\nAdd a catalog entry, or place the class in scope.py with a reason."
    counts = coverage.counts(catalog)
    assert counts["in the catalog"] + counts["out of scope"] + counts["not yet"] == counts["torch.nn classes"]
