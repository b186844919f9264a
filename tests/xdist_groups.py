"""pytest plugin (loaded by tests/run.sh): make `--dist loadgroup` honour
`@pytest.mark.xdist_group` again.

pytest-xdist 3.8 groups tests by appending "@group" to `item._nodeid` on the
workers; pytest 9 keeps the node id in `item._id` and no longer reads
`_nodeid`, so every group mark was silently ignored and grouped tests (one
Chromium, shared live server) were spread over all workers.
"""

import pytest
from _pytest.nodeid import coerce_node_id


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        if names and "@" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(sorted(names))}")
