import schemathesis
from hypothesis import settings, HealthCheck
import pytest
from qa_service.web import create_app

@pytest.fixture(scope="session")
def api_schema(seed_service):
    app = create_app(seed_service.settings, seed_service)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)

schema = schemathesis.pytest.from_fixture("api_schema")

@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case):
    case.call_and_validate()
