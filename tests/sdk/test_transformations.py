"""Named transformations through the official SDK: ``create_transformation``,
``transformation``, ``update_transformation``, ``transformations`` and ``delete_transformation``.

The SDK sends the name in the ``transformation`` parameter (``name`` + ``transformation`` to
create) with JSON bodies; lists name each entry ``t_<name>``, details use the bare name."""

import cloudinary.api as api
import cloudinary.exceptions
import pytest


def all_named(**options):
    """Every named transformation, following ``next_cursor``; also returns the page count."""
    names, pages, cursor = [], 0, None
    while True:
        extra = {"next_cursor": cursor} if cursor else {}
        page = api.transformations(named=True, **options, **extra)
        pages += 1
        names += [t["name"] for t in page["transformations"]]
        cursor = page.get("next_cursor")
        if not cursor or pages > 1000:
            return names, pages


def test_named_transformation_lifecycle(server, unique):
    # Arrange
    name = unique("tx")

    # Act / Assert: create (a dict definition becomes its URL string)
    assert api.create_transformation(name, {"crop": "scale", "width": 102}) == {
        "message": "created"}
    details = api.transformation(name)
    assert details["name"] == name
    assert details["allowed_for_strict"] is True
    assert details["used"] is False and details["named"] is True
    assert details["info"] == [] and details["derived"] == []

    # Act / Assert: the same name again is a conflict
    with pytest.raises(cloudinary.exceptions.AlreadyExists) as err:
        api.create_transformation(name, "w_5")
    assert f"Transformation {name} already exists" in str(err.value)

    # Act / Assert: update the strict flag and (unsafely) the definition
    updated = api.update_transformation(name, allowed_for_strict=False,
                                        unsafe_update={"crop": "scale", "width": 103})
    assert updated["message"] == "updated"
    assert api.transformation(name)["allowed_for_strict"] is False

    # Act / Assert: listed with the t_ prefix a delivery URL uses
    listed = api.transformations(named=True, max_results=500)["transformations"]
    entry = next(t for t in listed if t["name"] == f"t_{name}")
    assert entry == {"name": f"t_{name}", "allowed_for_strict": False, "used": False,
                     "named": True}

    # Act / Assert: delete, then it is gone
    assert api.delete_transformation(name)["message"] == "deleted"
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.transformation(name)
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.delete_transformation(name)
    assert f"t_{name}" not in all_named(max_results=500)[0]


def test_transformations_paging_with_next_cursor(server, unique):
    # Arrange
    prefix = unique("txpage")
    created = [f"{prefix}-{i}" for i in (3, 0, 2, 1)]
    for name in created:
        api.create_transformation(name, "c_fill,w_100,h_100")

    # Act
    names, pages = all_named(max_results=2)

    # Assert: each once, in name order, over several pages
    ours = [n for n in names if n.startswith(f"t_{prefix}-")]
    assert ours == [f"t_{prefix}-{i}" for i in range(4)]
    assert len(names) == len(set(names))
    assert pages >= 2
    for name in created:
        api.delete_transformation(name)


def test_bad_names_and_definitions_are_rejected(server, unique):
    # Act / Assert: names cannot hold URL syntax
    for bad in ("with.dot", "with,comma", "with/slash"):
        with pytest.raises(cloudinary.exceptions.BadRequest) as err:
            api.create_transformation(bad, "w_10")
        assert "Invalid transformation name" in str(err.value)

    # Act / Assert: a definition may not name itself
    name = unique("selfref")
    with pytest.raises(cloudinary.exceptions.BadRequest) as err:
        api.create_transformation(name, f"w_10/t_{name}")
    assert "refers to itself" in str(err.value)
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.transformation(name)

    # Act / Assert: updating an unknown name is a 404
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.update_transformation(unique("missing"), allowed_for_strict=True)
