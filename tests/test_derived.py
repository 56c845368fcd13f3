"""What is made in the background from the store: a making that fails waits before the next, as one that worked."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from policykg.web.derived import Derived


def test_after_a_failed_making_the_next_waits_as_long_as_it_took_and_none_is_counted():
    began: list[float] = []

    def make() -> tuple[object, int]:
        began.append(time.monotonic())
        time.sleep(0.2)
        raise OSError("no space left on the device")

    async def twice() -> Derived[int]:
        made: Derived[int] = Derived(make, lambda: "r1", ThreadPoolExecutor(1))  # type: ignore[arg-type]
        made.peek()  # starts the first making in the background
        deadline = time.monotonic() + 60
        while len(began) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            made.peek()  # a reader: it starts the next making once the one before has ended
        return made

    with ThreadPoolExecutor(1) as own:  # a loop of its own: the browser tests' may still run on this thread
        made = own.submit(asyncio.run, twice()).result()
    assert len(began) >= 2 and began[1] - began[0] >= 0.4  # 0.2 s of the failed making, then as long again
    assert made.makings == 0 and made.revision is None
