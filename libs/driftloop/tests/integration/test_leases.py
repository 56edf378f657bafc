"""Leases on SQLite and PostgreSQL: one holder at a time, handed over when the
holder stops renewing or releases, with the document it left."""

import uuid

import pytest

from driftloop.platform.leases import Leases
from driftloop.platform.testing import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'leases.db'}"
    return request.getfixturevalue("postgres_url")


def _pair(url: str, ttl_s: float = 30.0) -> tuple[Leases, Leases]:
    scope = f"test-{uuid.uuid4().hex[:8]}"
    return Leases(url, scope, "a", ttl_s), Leases(url, scope, "b", ttl_s)


def test_one_holder_at_a_time_and_renewal_keeps_the_epoch(url):
    a, b = _pair(url)
    first = a.take("m")
    assert first is not None and first.epoch == 1 and first.previous_holder == ""
    assert b.take("m") is None
    assert b.put("m", {"x": 1}) is False
    assert a.take("m").epoch == 1  # renewing is not a change of hands
    assert a.put("m", {"run": "r1"}) is True
    assert b.holders() == {"m": "a"}
    assert b.take("other") is not None  # keys are independent
    a.close(), b.close()


async def test_an_expired_lease_goes_to_the_next_taker_with_its_document(url):
    a, b = _pair(url, ttl_s=0.3)
    assert a.take("m") is not None
    assert a.put("m", {"run": "r1", "attempt": 1})
    taken = []

    async def b_takes() -> bool:
        lease = b.take("m")
        if lease:
            taken.append(lease)
        return lease is not None

    await wait_for(b_takes, timeout_s=30)  # a stopped renewing
    assert taken[0].epoch == 2
    assert taken[0].previous_holder == "a"
    assert taken[0].data == {"run": "r1", "attempt": 1}
    assert a.put("m", {"late": True}) is False  # the old holder has lost it
    assert a.release("m") is False
    a.close(), b.close()


def test_release_hands_over_at_once(url):
    a, b = _pair(url)
    assert a.take("m") is not None
    assert a.release("m", {"done": "r1"}) is True
    lease = b.take("m")
    assert lease is not None and lease.data == {"done": "r1"}
    assert a.take("m") is None
    a.close(), b.close()
