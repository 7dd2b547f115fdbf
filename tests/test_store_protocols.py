"""The SQLAlchemy unit of work satisfies every repository protocol of the storage seam (issue 23, step 2)."""

from __future__ import annotations

import inspect

from synthguard.store import protocols
from synthguard.store.db import Database
from synthguard.store.unit_of_work import UnitOfWork

REPOS = {name: proto for name, proto in vars(protocols).items()
         if name.endswith("Repo") and inspect.isclass(proto)}


def test_every_repository_protocol_is_served_by_the_unit_of_work(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    with db.unit_of_work() as uow:
        served = {type(getattr(uow, attr)).__name__: getattr(uow, attr) for attr in vars(uow) if attr != "session"}
        for name, proto in REPOS.items():
            hits = [repo for repo in served.values() if isinstance(repo, proto)]
            assert hits, f"no repository of the unit of work satisfies {name}"
    for attr in protocols.Unit.__annotations__:
        assert attr in vars(UnitOfWork(None)), f"UnitOfWork lacks {attr}"


def test_a_repository_missing_a_method_is_not_the_protocol():
    class Half:
        def add(self, rec): ...

    assert not isinstance(Half(), protocols.RecordsRepo)
