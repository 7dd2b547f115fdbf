"""Issue 17: the suite must run from a bare clone, so no test may read beside the repository."""

from __future__ import annotations

import pytest

from tests import repo_guard


def test_a_read_beside_the_repository_is_caught():
    sibling = repo_guard.ROOT.parent / "no-such-sibling-of-the-repository" / "x.png"
    before = len(repo_guard.violations)
    with pytest.raises(OSError):
        open(sibling, "rb")  # noqa: SIM115 - the audit event fires before the open fails
    assert repo_guard.violations[before:] == [str(sibling)]
    del repo_guard.violations[before:]


def test_reads_inside_the_repository_and_temp_are_allowed(tmp_path):
    assert not repo_guard.outside(str(repo_guard.ROOT / "tests" / "data" / "kodak" / "kodim01.png"))
    assert not repo_guard.outside(str(tmp_path / "x"))
    assert repo_guard.outside(str(repo_guard.ROOT / ".." / "no-such-sibling" / "REQUIREMENTS.md"))


def test_test_data_is_in_the_repository():
    data = repo_guard.ROOT / "tests" / "data"
    assert len(list((data / "kodak").glob("kodim*.png"))) == 24
    assert (data / "pdq" / "expected.json").is_file() and (data / "README.md").is_file()
