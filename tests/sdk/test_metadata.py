"""Structured metadata through the official SDK: field definitions of every type with their
validation and datasources (the Metadata API), values given at upload, by the ``metadata``
Upload-API method and by ``api.update``, shown typed in resource details and found by search
(``metadata.<field>`` and ``context.<key>``). Bad definitions and values are clear 4xx errors
that change nothing."""
import uuid

import cloudinary.api as api
import cloudinary.exceptions
import cloudinary.uploader as uploader
import pytest
from cloudinary.search import Search


@pytest.fixture(scope="module")
def fields(server):
    """Four fields with unique ids (none mandatory: other tests upload on this server)."""
    suffix = uuid.uuid4().hex[:8]
    made = {
        "caption": api.add_metadata_field({
            "type": "string", "external_id": f"caption_{suffix}", "label": "Caption",
            "validation": {"type": "strlen", "min": 2, "max": 20}}),
        "rating": api.add_metadata_field({
            "type": "integer", "external_id": f"rating_{suffix}", "label": "Rating",
            "validation": {"type": "and", "rules": [
                {"type": "greater_than", "value": 0, "equals": True},
                {"type": "less_than", "value": 5, "equals": True}]}}),
        "shot": api.add_metadata_field({
            "type": "date", "external_id": f"shot_{suffix}", "label": "Shot on"}),
        "colour": api.add_metadata_field({
            "type": "enum", "external_id": f"colour_{suffix}", "label": "Colour",
            "datasource": {"values": [{"value": "Red"}, {"value": "Dark Blue"}]}}),
        "places": api.add_metadata_field({
            "type": "set", "external_id": f"places_{suffix}", "label": "Places",
            "datasource": {"values": [{"external_id": "home", "value": "Home"},
                                      {"external_id": "work", "value": "Work"}]}}),
    }
    ids = {name: field["external_id"] for name, field in made.items()}
    yield ids
    for field_id in ids.values():
        api.delete_metadata_field(field_id)


def test_fields_are_defined_listed_changed_and_deleted(fields):
    listed = {f["external_id"]: f for f in api.list_metadata_fields()["metadata_fields"]}
    colour = listed[fields["colour"]]
    assert colour["type"] == "enum" and colour["mandatory"] is False
    assert [(e["external_id"], e["state"]) for e in colour["datasource"]["values"]] == [
        ("red", "active"), ("dark_blue", "active")]
    assert api.metadata_field_by_field_id(fields["rating"])["validation"]["type"] == "and"

    changed = api.update_metadata_field(fields["caption"], {"label": "Alt text"})
    assert changed["label"] == "Alt text" and changed["external_id"] == fields["caption"]

    values = api.update_metadata_field_datasource(
        fields["colour"], [{"value": "Green"}, {"external_id": "red", "value": "Crimson"}])
    assert [(e["external_id"], e["value"]) for e in values["values"]] == [
        ("red", "Crimson"), ("dark_blue", "Dark Blue"), ("green", "Green")]
    values = api.delete_datasource_entries(fields["colour"], ["green"])
    assert [e["state"] for e in values["values"]] == ["active", "active", "inactive"]
    values = api.restore_metadata_field_datasource(fields["colour"], ["green"])
    assert values["values"][2]["state"] == "active"
    values = api.reorder_metadata_field_datasource(fields["colour"], "value", "desc")
    assert [e["value"] for e in values["values"]] == ["Green", "Dark Blue", "Crimson"]

    spare = api.add_metadata_field({"type": "string", "label": f"Spare {uuid.uuid4().hex[:6]}"})
    assert spare["external_id"].startswith("spare_")
    assert api.delete_metadata_field(spare["external_id"]) == {"message": "ok"}
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.metadata_field_by_field_id(spare["external_id"])


def test_values_given_at_upload_are_typed_shown_and_searchable(fields, media, unique):
    public_id = unique("tagged")
    result = uploader.upload(str(media("alpha-balloon.png")), public_id=public_id,
                             context={"alt": "a red balloon"},
                             metadata={fields["caption"]: "balloon", fields["rating"]: 4,
                                       fields["shot"]: "2024-02-29",
                                       fields["colour"]: "dark_blue",
                                       fields["places"]: ["work", "home"]})
    expected = {fields["caption"]: "balloon", fields["rating"]: 4,
                fields["shot"]: "2024-02-29", fields["colour"]: "dark_blue",
                fields["places"]: ["work", "home"]}
    assert result["metadata"] == expected
    assert api.resource(public_id)["metadata"] == expected

    def found(expression):
        r = Search().expression(expression).with_field("metadata").execute()
        return [x["public_id"] for x in r["resources"]], r

    assert found(f"metadata.{fields['rating']}>=4 AND public_id={public_id}")[0] == [public_id]
    assert found(f"metadata.{fields['rating']}<4 AND public_id={public_id}")[0] == []
    assert found(f"metadata.{fields['colour']}=dark_blue AND public_id={public_id}")[0] == [
        public_id]
    assert found(f"metadata.{fields['places']}:home AND public_id={public_id}")[0] == [public_id]
    assert found(f"metadata.{fields['shot']}:[2024-01-01 TO 2024-12-31]")[0] == [public_id]
    assert found(f"metadata.{fields['shot']}>2025-01-01")[0] == []
    ids, r = found(f"context.alt:\"a red balloon\" AND public_id={public_id}")
    assert ids == [public_id] and r["resources"][0]["metadata"] == expected
    assert found(f"context.alt:a* AND public_id={public_id}")[0] == [public_id]


def test_the_metadata_method_and_admin_updates_change_values(fields, media, unique):
    first, second = unique("meta-a"), unique("meta-b")
    for public_id in (first, second):
        uploader.upload(str(media("alpha-balloon.png")), public_id=public_id,
                        metadata={fields["caption"]: "before"})
    done = uploader.update_metadata({fields["rating"]: 2, fields["caption"]: ""},
                                    [first, second])
    assert sorted(done["public_ids"]) == sorted([first, second])
    assert api.resource(first)["metadata"] == {fields["rating"]: 2}

    updated = api.update(second, metadata={fields["colour"]: "red"})
    assert updated["metadata"] == {fields["rating"]: 2, fields["colour"]: "red"}

    # clear_invalid drops a value that does not fit instead of refusing the call.
    uploader.update_metadata({fields["rating"]: 9, fields["caption"]: "kept"}, [first],
                             clear_invalid=True)
    assert api.resource(first)["metadata"] == {fields["caption"]: "kept"}


@pytest.mark.parametrize("values, says", [
    ({"no_such_field": "x"}, "Metadata field no_such_field does not exist"),
    ({"rating": 9}, "breaks its less_than rule"),
    ({"caption": "x"}, "breaks its strlen rule"),
    ({"shot": "29/02/2024"}, "is not a date"),
    ({"colour": "purple"}, "is not one of its datasource entries"),
    ({"places": ["home", "garden"]}, "is not one of its datasource entries"),
])
def test_bad_values_are_refused_and_change_nothing(fields, media, unique, values, says):
    values = {fields.get(k, k): v for k, v in values.items()}
    refused = unique("refused")
    with pytest.raises(cloudinary.exceptions.BadRequest, match=says):
        uploader.upload(str(media("alpha-balloon.png")), public_id=refused, metadata=values)
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.resource(refused)

    kept = unique("kept")
    uploader.upload(str(media("alpha-balloon.png")), public_id=kept,
                    metadata={fields["caption"]: "fine"})
    with pytest.raises(cloudinary.exceptions.BadRequest, match=says):
        uploader.update_metadata(values, [kept])
    assert api.resource(kept)["metadata"] == {fields["caption"]: "fine"}


def test_bad_definitions_are_refused(fields):
    for definition, error, says in [
        ({"type": "colour", "label": "x"}, cloudinary.exceptions.BadRequest, "unknown variant"),
        ({"type": "enum", "label": "x"}, cloudinary.exceptions.BadRequest, "needs a datasource"),
        ({"type": "integer", "label": "x", "default_value": "lots"},
         cloudinary.exceptions.BadRequest, "Invalid default_value"),
        ({"type": "string", "label": "x", "external_id": fields["caption"]},
         cloudinary.exceptions.AlreadyExists, "already exists"),
    ]:
        with pytest.raises(error, match=says):
            api.add_metadata_field(definition)
    with pytest.raises(cloudinary.exceptions.BadRequest, match="cannot change"):
        api.update_metadata_field(fields["rating"], {"type": "string"})
    with pytest.raises(cloudinary.exceptions.BadRequest, match="no datasource entry"):
        api.delete_datasource_entries(fields["colour"], ["no_such_entry"])
    with pytest.raises(cloudinary.exceptions.NotFound):
        api.update_metadata_field("no_such_field", {"label": "x"})


def test_a_mandatory_field_needs_a_value_on_upload(server, media, unique):
    field = api.add_metadata_field({"type": "string", "label": "Owner", "mandatory": True,
                                    "external_id": f"owner_{uuid.uuid4().hex[:8]}"})
    try:
        refused = unique("ownerless")
        with pytest.raises(cloudinary.exceptions.BadRequest, match="is mandatory"):
            uploader.upload(str(media("alpha-balloon.png")), public_id=refused)
        with pytest.raises(cloudinary.exceptions.NotFound):
            api.resource(refused)
        owned = uploader.upload(str(media("alpha-balloon.png")), public_id=unique("owned"),
                                metadata={field["external_id"]: "ops"})
        assert owned["metadata"] == {field["external_id"]: "ops"}
    finally:
        api.delete_metadata_field(field["external_id"])
