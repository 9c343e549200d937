def test_book_and_conflict(alice, bob, make_vm):
    vm = make_vm()
    assert alice.post(f"/api/vms/{vm['id']}/book", json={"hours": 1}).status_code == 200
    response = bob.post(f"/api/vms/{vm['id']}/book", json={"hours": 1})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "already_booked"
