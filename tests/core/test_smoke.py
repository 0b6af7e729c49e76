def test_cast_is_built(cast):
    assert cast.units["hongfeng"].guiding_station == cast.units["fengqiao"]
    assert cast.users["captain"].name == "楼红枫"


def test_healthz(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
