"""The OpenAPI document (issue 15, item 2.10): every schema class has a name of its own, so that
no endpoint documents another endpoint's request or response body."""

import enum
import typing
from collections import defaultdict

from ninja import Schema
from pydantic import BaseModel

from hongfeng.api import api


def _operations():
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            yield from path_view.operations


def _ours(cls) -> bool:
    return cls.__module__.startswith("hongfeng.")


def _walk(annotation, found: set) -> None:
    """Every model and enum a type annotation reaches (through lists, unions, Annotated…)."""
    for arg in typing.get_args(annotation):
        _walk(arg, found)
    if not isinstance(annotation, type) or annotation in found:
        return
    if issubclass(annotation, BaseModel):
        found.add(annotation)
        for field in annotation.model_fields.values():
            _walk(field.annotation, found)
    elif issubclass(annotation, enum.Enum):
        found.add(annotation)


def _schema_classes() -> set[type]:
    """Our Schema subclasses (imported or not by an endpoint) and every model or enum that an
    operation's parameters or responses reach."""
    found: set[type] = set()
    pending = list(Schema.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        _walk(cls, found)
    for operation in _operations():
        for model in operation.models:
            _walk(model, found)
        for response in operation.response_models.values():
            _walk(response, found)
    return {cls for cls in found if _ours(cls)}


def test_no_two_schema_classes_share_a_name():
    """The document names its components after the class; two classes of one name collapse
    into one component and one endpoint documents the other's body."""
    by_name = defaultdict(set)
    for cls in _schema_classes():
        by_name[cls.__name__].add(f"{cls.__module__}.{cls.__qualname__}")
    shared = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert not shared
    assert len(by_name) > 100  # the walk really reached the API's schemas


def _body_model(operation):
    for model in operation.models:
        if model.__ninja_param_source__ == "body":
            (field,) = model.model_fields.values()
            return field.annotation
    return None


def _documented_body(document, path: str, method: str) -> dict:
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    return document["components"]["schemas"][name]


def test_every_json_body_is_documented_as_its_own_schema():
    document = api.get_openapi_schema()
    checked = 0
    for prefix, router in api._routers:
        for route, path_view in router.path_operations.items():
            path = "/api/v1/" + "/".join(p.strip("/") for p in (prefix, route) if p.strip("/"))
            for operation in path_view.operations:
                model = _body_model(operation)
                for method in operation.methods if model is not None else ():
                    documented = _documented_body(document, path, method.lower())
                    assert set(documented["properties"]) == set(model.model_fields), path
                    checked += 1
    assert checked > 30


def test_the_three_endpoints_that_showed_another_body():
    """POST /role-assignments, /units/{id}/move and /points-rules documented the honours grant,
    the member move and the violation rule."""
    document = api.get_openapi_schema()
    grant = _documented_body(document, "/api/v1/role-assignments", "post")
    assert {"role", "unit_id", "mobile"} <= set(grant["properties"])
    assert "title_id" not in grant["properties"]
    move = _documented_body(document, "/api/v1/units/{unit_id}/move", "post")
    assert set(move["properties"]) == {"parent_id", "version"}
    rule = _documented_body(document, "/api/v1/points-rules", "post")
    assert {"association_id", "per_hour", "difficulty", "quality"} <= set(rule["properties"])
    assert "warnings" not in rule["properties"]
