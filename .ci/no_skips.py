"""pytest plugin for `make test-lowest`: a skipped test fails the run.

With the lowest allowed versions every unit test must run: a test that skips there (a
missing feature, a missing tool) means a lower bound in pyproject.toml is wrong.
"""

skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if skipped:
        terminalreporter.write_line(
            f"no_skips: {len(skipped)} test(s) skipped under the lowest allowed versions "
            "(a lower bound in pyproject.toml is wrong): " + ", ".join(skipped), red=True
        )
