"""pytest plugin (registered by the root conftest.py): every collected test
has a node id of its own, and every one of them is reported, or the run fails.

Why: pytest-xdist schedules tests by node id. Under pytest 9 a Function's node
id is built from its `originalname` and callspec, not from its `name`, so the
items schemathesis generates ("test_api_as_x[GET /api/v1/...]", one per API
operation) all got the id "test_api_as_x": xdist ran one of each and the other
operations silently never ran. `pytest_collection_modifyitems` puts the
operation back into the id; the end-of-run check turns any future silent drop
(duplicate ids, a plugin losing items) into a failure.
"""

import sys

import pytest
from _pytest.nodeid import NodeId

_SHOWN = 20  # ids listed in the failure message


def give_operations_their_node_ids(items: list[pytest.Item]) -> None:
    """Schemathesis items (they carry `operation_label`) get the operation in
    their node id, as before pytest 9: "test_x[GET /api/v1/procedures]"."""
    for item in items:
        label = getattr(item, "operation_label", None)
        node_id = getattr(item, "_id", None)
        if not label or not isinstance(node_id, NodeId) or label in str(node_id):
            continue
        params = label if node_id.params is None else f"{label}][{node_id.params}"
        item._id = NodeId(path=node_id.path, names=node_id.names, params=params)


# Before tests.xdist_groups (trylast) appends "@group", and before the xdist
# workers send their ids to the controller (pytest_collection_finish).
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    give_operations_their_node_ids(items)


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the check runs where results are gathered
        config.pluginmanager.register(EveryTestReported(), "every-test-reported")


class EveryTestReported:
    def __init__(self) -> None:
        self.collected: list[str] | None = None
        self.reported: set[str] = set()
        self.problems: list[str] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = [item.nodeid for item in session.items]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:  # noqa: ANN001 - WorkerController
        # The xdist controller collects nothing itself; every worker sends the same ids.
        if self.collected is None:
            self.collected = list(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # A test counts once its body ran, or once its setup failed or skipped it.
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.reported.add(report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.collected is None or session.config.option.collectonly:
            return
        if session.shouldstop or session.shouldfail or exitstatus not in (0, 1):
            return  # -x, --maxfail, an interrupt, an internal error: not everything was meant to run
        unique = dict.fromkeys(self.collected)
        if len(unique) < len(self.collected):
            counts: dict[str, int] = {}
            for node_id in self.collected:
                counts[node_id] = counts.get(node_id, 0) + 1
            shared = [f"{node_id} (x{n})" for node_id, n in counts.items() if n > 1]
            self.problems.append(
                f"{len(self.collected) - len(unique)} of {len(self.collected)} collected tests repeat another's "
                f"node id, so pytest-xdist runs only one of each: {', '.join(shared[:_SHOWN])}"
            )
        missing = [node_id for node_id in unique if node_id not in self.reported]
        if missing:
            self.problems.append(
                f"{len(missing)} of {len(unique)} collected tests were never reported: {', '.join(missing[:_SHOWN])}"
            )
        if self.problems:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:  # noqa: ANN001
        if self.problems:
            terminalreporter.write_sep("=", "collected but not run", red=True)
            for line in self.problems:
                terminalreporter.write_line(line, red=True)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.problems and config.pluginmanager.get_plugin("terminalreporter") is None:
            print("\n".join(self.problems), file=sys.stderr)  # noqa: T201 - run with -p no:terminal
