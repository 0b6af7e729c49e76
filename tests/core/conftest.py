"""Hooks only the platform-wide tests need."""


def pytest_collection_modifyitems(items):
    """Schemathesis names each operation's test `test_api_fuzz[GET /api/v1/me]`, but under
    pytest 9 every one of them gets the bare function's node id (it passes the function's name
    as `originalname` and no callspec, which is where pytest 9 takes the brackets from). Put the
    operation back into the id, so that every collected id is unique and names one test in
    reports, reruns and xdist. Nothing happens if a later pytest or schemathesis gets it right,
    or stores the id differently."""
    for item in items:
        node_id = getattr(item, "_id", None)
        if node_id is None or "[" not in item.name or "[" in item.nodeid:
            continue
        if getattr(node_id, "params", "") is None and hasattr(node_id, "with_params"):
            item._id = node_id.with_params(item.name.partition("[")[2].removesuffix("]"))
