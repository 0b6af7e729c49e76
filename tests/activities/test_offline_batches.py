"""Offline check-in batches whose times cannot be true (found by fuzzing the API as a team
captain, issue 15, item 2.5): a phone clock that pushes a device time past year 9999 or before
year 1, or records with and without a time zone side by side. Each record is refused with a
code; the batch never answers 500."""

import uuid

import pytest

from hongfeng.activities.models import Activity


def _item(activity_id: int, device_time: str) -> dict:
    return {
        "activity_id": activity_id,
        "kind": "in",
        "client_id": str(uuid.uuid4()),
        "device_time": device_time,
    }


@pytest.mark.parametrize(
    ("sent_at", "device_times"),
    [
        # the phone's clock far behind: the correction pushes a late device time past year 9999
        ("0001-01-01T00:00:00+00:00", ["9999-12-31T23:59:59+00:00"]),
        # far ahead: an early device time corrected to before year 1
        ("9999-12-31T23:59:59+00:00", ["0001-01-01T00:00:00+00:00"]),
        # a record without a time zone beside one with: they cannot be put in order
        ("2026-12-08T10:00:00+08:00", ["2026-12-08T09:00:00", "2026-12-08T09:30:00+08:00"]),
    ],
)
def test_offline_batch_with_impossible_times(cast, api_as, sent_at, device_times):
    activity = Activity.objects.filter(unit__team=cast.units["hongfeng"]).first()
    batch = {"sent_at": sent_at, "items": [_item(activity.pk, t) for t in device_times]}
    response = api_as("captain").post("/checkins/sync", batch)
    assert response.status_code == 200, response.content[:500]
    answers = response.json()
    assert len(answers) == len(device_times)
    assert all(not a["ok"] and a["error"]["code"] for a in answers)
