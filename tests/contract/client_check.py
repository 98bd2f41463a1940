"""Drives the API through the client openapi-python-client generated from openapi.yaml
(tests/it/contract.rs generates it and starts the server): signs in, creates a campaign and a
buyer, lists calls, reads a publisher's report. Prints what it made as JSON for the test to check;
exits non-zero at the first answer that is not the documented one."""
import json
import os
import sys

from callbroker_client import AuthenticatedClient, Client
from callbroker_client.api.auth import login
from callbroker_client.api.buyers import create_buyer
from callbroker_client.api.calls import list_calls
from callbroker_client.api.campaigns import create_campaign
from callbroker_client.api.publishers import get_publisher_report
from callbroker_client.models import LoginRequest, NewBuyer, NewCampaign


def expect(response, status):
    if response.status_code != status:
        sys.exit(f"expected {status}, got {response.status_code}: {response.content!r}")
    if response.parsed is None:
        sys.exit(f"the client could not read the answer: {response.content!r}")
    return response.parsed


base = os.environ["CALLBROKER_URL"]
signed_in = expect(
    login.sync_detailed(
        client=Client(base_url=base),
        body=LoginRequest(email=os.environ["CALLBROKER_EMAIL"], password=os.environ["CALLBROKER_PASSWORD"]),
    ),
    200,
)
client = AuthenticatedClient(base_url=base, token=signed_in.token)
campaign = expect(create_campaign.sync_detailed(client=client, body=NewCampaign(name="Made by the generated client")), 201)
buyer = expect(
    create_buyer.sync_detailed(client=client, body=NewBuyer(name="Generated buyer", phone_number="+14155550123")), 201
)
calls = expect(list_calls.sync_detailed(client=client), 200)
publisher_id = int(os.environ["CALLBROKER_PUBLISHER_ID"])
report = expect(get_publisher_report.sync_detailed(id=publisher_id, client=client), 200)
print(
    json.dumps(
        {
            "campaign_id": campaign.id,
            "buyer_id": buyer.id,
            "calls_total": calls.total,
            "report_page": report.page,
            "report_total": report.total,
        }
    )
)
