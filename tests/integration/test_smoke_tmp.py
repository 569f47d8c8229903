import pytest
from kmip.core import enums
from tests.integration.conftest import VERSIONS
pytestmark = pytest.mark.integration

@pytest.mark.parametrize("v", list(VERSIONS))
def test_smoke(make_client, v, kmipd_server):
    c = make_client("alice", VERSIONS[v])
    uid = c.create(enums.CryptographicAlgorithm.AES, 256, name="x")
    print(uid)
    k = c.get(uid)
    print(k, len(k.value))
    print(c.get_attributes(uid))
    print(c.get_attribute_list(uid))
    print(kmipd_server.logs())
