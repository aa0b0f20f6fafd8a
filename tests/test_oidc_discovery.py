"""Discovery publishes the configured endpoints, whatever Host a request claims."""

import pytest


@pytest.mark.settings(SERVER_NAME=None, BASE_URL="https://idp.example.edu")
def test_published_endpoints_ignore_a_forged_host_header(client):
    document = client.get("/.well-known/openid-configuration",
                          headers={"Host": "evil.example"}).get_json()
    urls = [value for value in document.values() if isinstance(value, str)
            and value.startswith("http")]
    assert urls and all(value.startswith("https://idp.example.edu/") or value == "https://idp.example.edu"
                        for value in urls)
