//! Definitions and values: what is accepted, what is refused, and the typed JSON kept.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;

fn fields() -> Vec<Field> {
    [
        json!({"type": "string", "external_id": "caption", "label": "Caption",
               "validation": {"type": "strlen", "min": 2, "max": 10}}),
        json!({"type": "integer", "external_id": "rating", "label": "Rating",
               "validation": {"type": "and", "rules": [
                   {"type": "greater_than", "value": 0, "equals": true},
                   {"type": "less_than", "value": 5, "equals": true}]}}),
        json!({"type": "date", "external_id": "shot", "label": "Shot on",
               "validation": {"type": "greater_than", "value": "2000-01-01"}}),
        json!({"type": "enum", "label": "Colour", "default_value": "red",
               "datasource": {"values": [{"value": "Red"}, {"value": "Dark Blue"},
                                         {"external_id": "old", "value": "Old", "state": "inactive"}]}}),
        json!({"type": "set", "external_id": "places", "label": "Places", "mandatory": true,
               "default_value": ["home"],
               "datasource": {"values": [{"external_id": "home", "value": "Home"},
                                         {"external_id": "work", "value": "Work"}]}}),
    ]
    .into_iter()
    .map(|j| Field::from_json(j).unwrap())
    .collect()
}

fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn entries_and_fields_get_ids_from_their_labels() {
    let fields = fields();
    let colour = &fields[3];
    assert_eq!(colour.external_id, "colour");
    let ids: Vec<&str> = colour
        .datasource
        .as_ref()
        .unwrap()
        .values
        .iter()
        .map(|e| e.external_id.as_str())
        .collect();
    assert_eq!(ids, ["red", "dark_blue", "old"]);
    let shown = serde_json::to_value(colour).unwrap();
    assert_eq!(shown["type"], "enum");
    assert_eq!(shown["datasource"]["values"][0]["state"], "active");
    assert_eq!(shown["mandatory"], false);
}

#[test]
fn values_are_typed_and_checked() {
    let fields = fields();
    let a = assign(
        &fields,
        &given(&[
            ("caption", "a dog"),
            ("rating", "5"),
            ("shot", "2024-02-29"),
            ("colour", "dark_blue"),
            ("places", r#"["work","home","work"]"#),
        ]),
        true,
        false,
    )
    .unwrap();
    assert_eq!(a.set["caption"], json!("a dog"));
    assert_eq!(a.set["rating"], json!(5));
    assert_eq!(a.set["shot"], json!("2024-02-29"));
    assert_eq!(a.set["colour"], json!("dark_blue"));
    assert_eq!(a.set["places"], json!(["work", "home"]));
}

#[test]
fn a_new_asset_takes_defaults_and_needs_its_mandatory_fields() {
    let fields = fields();
    let a = assign(&fields, &given(&[]), true, false).unwrap();
    assert_eq!(a.set["colour"], json!("red"));
    assert_eq!(a.set["places"], json!(["home"]));
    // An update leaves fields not given alone.
    assert!(
        assign(&fields, &given(&[]), false, false)
            .unwrap()
            .is_empty()
    );
    let cleared = assign(&fields, &given(&[("caption", "")]), false, false).unwrap();
    assert_eq!(cleared.clear, ["caption"]);
    let refused = assign(&fields, &given(&[("places", "")]), false, false).unwrap_err();
    assert!(refused.0.contains("mandatory"), "{refused}");
}

#[test]
fn bad_values_are_refused_naming_the_field_and_the_rule() {
    let fields = fields();
    for (field, value, says) in [
        ("nope", "1", "Metadata field nope does not exist"),
        ("caption", "x", "breaks its strlen rule"),
        (
            "caption",
            "much too long a caption",
            "breaks its strlen rule",
        ),
        ("rating", "6", "breaks its less_than rule"),
        ("rating", "five", "\"five\" is not an integer"),
        ("shot", "1999-12-31", "breaks its greater_than rule"),
        ("shot", "31/12/2024", "is not a date like"),
        (
            "colour",
            "green",
            "\"green\" is not one of its datasource entries",
        ),
        ("colour", "old", "is not one of its datasource entries"),
        ("places", "[\"home\", 3]", "a set is a JSON list"),
    ] {
        let e = assign(&fields, &given(&[(field, value)]), false, false).unwrap_err();
        assert!(e.0.contains(says), "{field}={value}: {e}");
        if field != "nope" {
            assert!(e.0.contains(field), "{e}");
        }
    }
    // clear_invalid drops what does not fit instead.
    let a = assign(
        &fields,
        &given(&[("nope", "1"), ("rating", "9"), ("caption", "fine")]),
        false,
        true,
    )
    .unwrap();
    assert_eq!(a.set.keys().collect::<Vec<_>>(), ["caption"]);
    assert_eq!(a.clear, ["rating"]);
}

#[test]
fn bad_definitions_are_refused() {
    for (body, says) in [
        (json!({"type": "colour", "label": "x"}), "unknown variant"),
        (json!({"type": "string"}), "missing field `label`"),
        (json!({"type": "enum", "label": "x"}), "needs a datasource"),
        (
            json!({"type": "string", "label": "x", "datasource": {"values": [{"value": "a"}]}}),
            "only enum and set",
        ),
        (
            json!({"type": "string", "label": "x", "validation": {"type": "greater_than", "value": 3}}),
            "does not apply",
        ),
        (
            json!({"type": "integer", "label": "x", "default_value": "lots"}),
            "Invalid default_value",
        ),
        (
            json!({"type": "string", "label": "x", "external_id": "a b"}),
            "Invalid external_id",
        ),
        (
            json!({"type": "set", "label": "x", "datasource": {"values": [
                {"external_id": "a", "value": "A"}, {"external_id": "a", "value": "B"}]}}),
            "appears twice",
        ),
    ] {
        let e = Field::from_json(body.clone()).unwrap_err();
        assert!(e.0.contains(says), "{body}: {e}");
    }
}

#[test]
fn updates_keep_the_id_and_the_type() {
    let field = fields().remove(1);
    let changed = field
        .updated(json!({"label": "Stars", "external_id": "other", "mandatory": false}))
        .unwrap();
    assert_eq!(
        (changed.label.as_str(), changed.external_id.as_str()),
        ("Stars", "rating")
    );
    let e = field.updated(json!({"type": "string"})).unwrap_err();
    assert!(e.0.contains("cannot change"), "{e}");
    assert!(field.updated(Value::Null).is_err());
}
