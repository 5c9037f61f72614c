"""Data routes: field names of the contract, pagination, LDC verification, notices."""

from __future__ import annotations

from fastapi.testclient import TestClient

from syncbucket.portalsim.data import rows
from syncbucket.portalsim.data.traces_ldc import HIDDEN
from syncbucket.portalsim.state import SimulatorState
from tests.unit.portalsim.flows import TRACES_DATA, it_headers, traces_session

# TANs chosen for their data: a big deductor (several pages) and one with LDCs.
TANS = [f"PNEA{i:05d}K" for i in range(300)]
BIG = next(t for t in TANS if len(rows("return_summary", t)) > 100)
WITH_LDC = next(
    t
    for t in TANS
    if any(r[HIDDEN] for r in rows("ldc", t)) and not all(r[HIDDEN] for r in rows("ldc", t))
)
WITH_NOTICES = next(t for t in TANS if any(r["_tab"] == "FYA" for r in rows("eproceedings", t)))

STATEMENT_FIELDS = {
    "finyear", "quarter", "formtype", "tokenno", "dtoffiling", "status", "dtofprcng",
    "stmnttype", "remarks", "reason",
}  # fmt: skip


def test_pages_walk_every_row_once(client: TestClient) -> None:
    traces_session(client, BIG)
    first = client.get(f"{TRACES_DATA}/statementStatus", params={"pageNo": 1, "pageSize": 50})
    total, pages = first.json()["totalRecords"], first.json()["totalPages"]
    assert pages == -(-total // 50) >= 3
    seen = [
        row["tokenno"]
        for page_no in range(1, pages + 1)
        for row in client.get(
            f"{TRACES_DATA}/statementStatus", params={"pageNo": page_no, "pageSize": 50}
        ).json()["rows"]
    ]
    assert len(seen) == len(set(seen)) == total
    assert set(first.json()["rows"][0]) == STATEMENT_FIELDS


def test_page_size_over_100_is_refused(client: TestClient) -> None:
    traces_session(client, BIG)
    reply = client.get(f"{TRACES_DATA}/statementStatus", params={"pageSize": 101})
    assert (reply.status_code, reply.json()["errorCode"]) == (400, "INVALID_REQUEST")


def test_other_traces_modules_answer_their_fields(client: TestClient) -> None:
    traces_session(client, BIG)
    demand = client.get(f"{TRACES_DATA}/outstandingDemand").json()
    assert set(demand) == {"rows"}
    challans = client.get(f"{TRACES_DATA}/unconsumedChallans", params={"pageSize": 5}).json()
    assert {"recptNo", "chlnbsrcode", "dateofdep", "chlnsrno", "consumption"} <= set(
        challans["rows"][0]
    )
    requests = client.get(f"{TRACES_DATA}/raisedRequests").json()
    assert requests["totalRecords"] == len(rows("raised_requests", BIG))


def test_ldc_list_then_verify(client: TestClient) -> None:
    traces_session(client, WITH_LDC)
    listed = client.get(f"{TRACES_DATA}/ldcList").json()["rows"]
    assert listed and all(set(row) == {"certNo", "pan", "finYr"} for row in listed)
    outcomes = {}
    for row in listed:
        reply = client.post(f"{TRACES_DATA}/verifyLdc", json=row)
        outcomes[row["certNo"]] = reply.status_code
        if reply.status_code == 200:
            assert reply.json()["certNo"] == row["certNo"] and "tdsAmtLimit" in reply.json()
            assert HIDDEN not in reply.json()
        else:
            assert reply.json()["errorCode"] == "CERT_NOT_FOUND"
    assert set(outcomes.values()) == {200, 404}
    typo = client.post(f"{TRACES_DATA}/verifyLdc", json={**listed[0], "certNo": "0000AA000A"})
    assert typo.status_code == 404


def test_data_follow_the_data_epoch_knob(client: TestClient, state: SimulatorState) -> None:
    traces_session(client, BIG)
    state.set_faults("traces", change_ratio=1.0)
    before = client.get(f"{TRACES_DATA}/statementStatus", params={"pageSize": 100}).json()
    state.set_faults("traces", data_epoch=1)
    after = client.get(f"{TRACES_DATA}/statementStatus", params={"pageSize": 100}).json()
    assert before != after


def test_eproceedings_by_tab_and_notices(client: TestClient) -> None:
    headers = it_headers(client, WITH_NOTICES)
    fya = client.get("/itportal/iec/eproceedings", params={"tab": "FYA"}, headers=headers).json()
    fyi = client.get("/itportal/iec/eproceedings", params={"tab": "FYI"}, headers=headers).json()
    assert fya["totalRecords"] + fyi["totalRecords"] == len(rows("eproceedings", WITH_NOTICES))
    proceeding = fya["rows"][0]
    assert not any(name.startswith("_") for name in proceeding)
    assert proceeding["pan"] == WITH_NOTICES
    notices = client.get(
        f"/itportal/iec/eproceedings/{proceeding['proceedingReqId']}/notices", headers=headers
    )
    assert len(notices.json()) == proceeding["viewNoticeCount"]
    assert isinstance(notices.json()[0]["issuedOn"], int)
    missing = client.get("/itportal/iec/eproceedings/1/notices", headers=headers)
    assert missing.status_code == 404
    bad_tab = client.get("/itportal/iec/eproceedings", params={"tab": "X"}, headers=headers)
    assert bad_tab.status_code == 400
