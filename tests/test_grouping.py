"""Group commit's queue: writes that arrive while a group runs form the next group, each with its own verdict."""

import threading

import pytest

from policykg.writing.grouping import GroupCommit


def test_writes_that_arrive_while_a_group_runs_form_the_next_and_keep_their_own_verdicts():
    commits = GroupCommit()
    release = threading.Event()
    published: list[list[int]] = []
    ran: list[int] = []
    outcomes: dict[int, object] = {}

    def as_one(run_all) -> None:
        before = len(ran)
        run_all()
        published.append(ran[before:])

    def write(n: int) -> int:
        if n == 0:
            release.wait(10)  # the first group holds on until the others are waiting
        ran.append(n)
        if n % 3 == 2:
            raise ValueError(f"write {n} refused")
        return n * 10

    def call(n: int) -> None:
        try:
            outcomes[n] = commits.run(lambda: write(n), as_one)
        except ValueError as error:
            outcomes[n] = str(error)

    first = threading.Thread(target=call, args=(0,))
    first.start()
    while not ran and not commits._running.locked():
        pass
    others = [threading.Thread(target=call, args=(n,)) for n in range(1, 10)]
    for thread in others:
        thread.start()
    while len(commits._waiting) < 9:  # every other write waits for the next group
        pass
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert published == [[0], list(range(1, 10))]
    assert (commits.groups, commits.writes) == (2, 10)
    assert outcomes == {n: f"write {n} refused" if n % 3 == 2 else n * 10 for n in range(10)}


def test_a_group_that_cannot_be_published_acknowledges_none_of_its_writes():
    commits = GroupCommit()

    def as_one(run_all) -> None:
        run_all()
        raise OSError("the snapshot could not be taken")

    with pytest.raises(OSError, match="snapshot"):
        commits.run(lambda: 1, as_one)
