"""The service suites again, unchanged, with `policykg serve` keeping its graph in a real Virtuoso.

Each suite below is collected here a second time, its tests taking this module's `service` (the service
over Virtuoso, through the remote backend's Virtuoso dialect) instead of conftest's (over the embedded
store), and the competency questions are asked through that service's SPARQL endpoint. Nothing here
works around Virtuoso: whatever differs is the backend's business, and where the service's own queries met
a bug of Virtuoso they were rewritten in a portable form that gives the same answer everywhere.
"""

import inspect
from collections.abc import Iterator

import pytest
import test_competency
import test_service_entries
import test_service_linked_data
import test_service_pictures
import test_service_query
import test_service_search
import test_service_statistics
import test_service_validated_writes
import test_service_write
import test_w3c_protocol
from conftest import SERVICE_SETTINGS, TOKEN, Service, start_service, stop

from policykg.store import RemoteStore

SUITES = (
    test_competency,
    test_service_query,
    test_service_write,
    test_service_entries,
    test_service_validated_writes,
    test_w3c_protocol,
    test_service_linked_data,
    test_service_search,
    test_service_pictures,
    test_service_statistics,
)

# Every test of those suites that talks to the service (or, for the competency questions, to its store).
globals().update(
    {
        name: test
        for suite in SUITES
        for name, test in vars(suite).items()
        if name.startswith("test_") and {"service", "seed_store"} & set(inspect.signature(test).parameters)
    }
)
graphs = test_w3c_protocol.graphs  # that suite's fixture, over this module's service


@pytest.fixture(scope="module")
def service(virtuoso_server, tmp_path_factory) -> Iterator[Service]:
    """The service as in conftest, over an emptied Virtuoso (so it loads the model on its first start)."""
    store = virtuoso_server.open()
    store.update("DROP SILENT ALL")
    store.close()
    folder = tmp_path_factory.mktemp("service-virtuoso")
    process, url = start_service(
        folder, **SERVICE_SETTINGS, **virtuoso_server.settings(), POLICYKG_SEARCH_INDEX=str(folder / "search")
    )
    try:
        yield Service(url, TOKEN)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def seed_store(service) -> Iterator[RemoteStore]:
    """The store the competency questions are asked of: the service's SPARQL endpoint, over Virtuoso."""
    store = RemoteStore(service.sparql)
    yield store
    store.close()
