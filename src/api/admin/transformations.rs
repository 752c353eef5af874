//! Admin named transformations: list, get, create, update, delete.
//!
//! Two request shapes reach the same code. The SDKs (pycloudinary, Node) call `/transformations`
//! with the name in the `transformation` parameter, or `name` + `transformation` to create. The
//! OpenAPI spec puts the name in the path: `/transformations/{name}`. Lists name each entry
//! `t_<name>`, as a URL would, while details use the bare name; both follow the spec's
//! examples (`transformation_summary` vs `transformation_info`).

use axum::extract::{Path, Request, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{authorized, decode_cursor, encode_cursor, max_results};
use crate::api::ApiError;
use crate::catalog::NamedTransformation;
use crate::params::Params;
use crate::service::Kino;

/// Longest accepted name; names end up in every delivery URL that uses them.
const MAX_NAME_CHARS: usize = 255;

pub(super) fn routes() -> Router<Kino> {
    Router::new()
        .route(
            "/v1_1/{cloud}/transformations",
            get(sdk_get)
                .post(sdk_create)
                .put(sdk_update)
                .delete(sdk_delete),
        )
        .route(
            "/v1_1/{cloud}/transformations/{name}",
            get(path_get)
                .post(path_create)
                .put(path_update)
                .delete(path_delete),
        )
}

// ------------------------------------------------------------------ handlers, SDK shape

/// `transformation=<name>` asks for one; without it, the listing.
async fn sdk_get(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    match params.get("transformation") {
        Some(name) => show(&kino, &cloud, name).await,
        None => list(&kino, &cloud, &params).await,
    }
}

async fn sdk_create(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    create(&kino, &cloud, required(&params, "name")?, &params).await
}

async fn sdk_update(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    update(&kino, &cloud, required(&params, "transformation")?, &params).await
}

async fn sdk_delete(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    remove(&kino, &cloud, required(&params, "transformation")?).await
}

// ------------------------------------------------------------------ handlers, OpenAPI shape

async fn path_get(
    State(kino): State<Kino>,
    Path((cloud, name)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    show(&kino, &cloud, &name).await
}

async fn path_create(
    State(kino): State<Kino>,
    Path((cloud, name)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    create(&kino, &cloud, &name, &params).await
}

async fn path_update(
    State(kino): State<Kino>,
    Path((cloud, name)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    update(&kino, &cloud, &name, &params).await
}

async fn path_delete(
    State(kino): State<Kino>,
    Path((cloud, name)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    remove(&kino, &cloud, &name).await
}

// ------------------------------------------------------------------ the calls

async fn list(kino: &Kino, cloud: &str, params: &Params) -> Result<Json<Value>, ApiError> {
    let limit = max_results(params, 10)?;
    // Kino keeps no unnamed transformations yet, so `named=false` lists nothing.
    if params.bool("named")? == Some(false) {
        return Ok(Json(json!({"transformations": [], "next_cursor": null})));
    }
    let after = params.get("next_cursor").map(decode_cursor).transpose()?;
    let page = kino
        .catalog
        .list_named_transformations(cloud, limit, after.as_deref())
        .await?;
    let items: Vec<Value> = page.items.iter().map(list_item).collect();
    let next = page.next_row.as_deref().map(encode_cursor);
    Ok(Json(json!({"transformations": items, "next_cursor": next})))
}

async fn show(kino: &Kino, cloud: &str, name: &str) -> Result<Json<Value>, ApiError> {
    check_name(name)?;
    let found = kino
        .catalog
        .find_named_transformation(cloud, name)
        .await?
        .ok_or_else(|| not_found(name))?;
    let derived = made_with(kino, cloud, &format!("t_{name}")).await?;
    Ok(Json(details(&found, &derived)))
}

/// The derived files a delivery URL made with `text`, as transformation details list them.
async fn made_with(kino: &Kino, cloud: &str, text: &str) -> Result<Vec<Value>, ApiError> {
    let derived = kino
        .catalog
        .derived_with_transformation(cloud, text, 100)
        .await?;
    let mut ids: Vec<String> = derived.iter().map(|d| d.asset_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let assets = kino.catalog.assets_by_ids(&ids).await?;
    Ok(derived
        .iter()
        .filter_map(|d| {
            let asset = assets.iter().find(|a| a.asset_id == d.asset_id)?;
            let mut item = crate::api::json::derived_item(kino, asset, d);
            item["public_id"] = json!(asset.public_id);
            item["resource_type"] = json!(asset.resource_type.as_str());
            item["type"] = json!(asset.delivery_type.as_str());
            Some(item)
        })
        .collect())
}

async fn create(
    kino: &Kino,
    cloud: &str,
    name: &str,
    params: &Params,
) -> Result<Json<Value>, ApiError> {
    check_name(name)?;
    let definition = required(params, "transformation")?;
    check_definition(name, definition).map_err(ApiError::bad_input)?;
    // The SDKs' own integration tests expect a new named transformation to be allowed for
    // strict mode unless told otherwise.
    let allowed_for_strict = params.bool("allowed_for_strict")?.unwrap_or(true);
    kino.catalog
        .create_named_transformation(cloud, name, definition, allowed_for_strict)
        .await?;
    Ok(Json(json!({"message": "created"})))
}

async fn update(
    kino: &Kino,
    cloud: &str,
    name: &str,
    params: &Params,
) -> Result<Json<Value>, ApiError> {
    check_name(name)?;
    let definition = given(params, "unsafe_update");
    if let Some(text) = definition {
        check_definition(name, text).map_err(ApiError::bad_input)?;
    }
    let allowed_for_strict = params.bool("allowed_for_strict")?;
    if definition.is_none() && allowed_for_strict.is_none() {
        return Err(ApiError::bad_input(
            "Nothing to update: give unsafe_update (the new definition) or allowed_for_strict",
        ));
    }
    let found = kino
        .catalog
        .update_named_transformation(cloud, name, definition, allowed_for_strict)
        .await?;
    if !found {
        return Err(not_found(name));
    }
    Ok(Json(json!({"message": "updated"})))
}

async fn remove(kino: &Kino, cloud: &str, name: &str) -> Result<Json<Value>, ApiError> {
    check_name(name)?;
    if !kino
        .catalog
        .delete_named_transformation(cloud, name)
        .await?
    {
        return Err(not_found(name));
    }
    Ok(Json(json!({"message": "deleted"})))
}

// ------------------------------------------------------------------ wire JSON

fn list_item(t: &NamedTransformation) -> Value {
    json!({
        "name": format!("t_{}", t.name),
        "allowed_for_strict": t.allowed_for_strict,
        "used": false,
        "named": true,
    })
}

fn details(t: &NamedTransformation, derived: &[Value]) -> Value {
    json!({
        "name": t.name,
        "allowed_for_strict": t.allowed_for_strict,
        "used": !derived.is_empty(),
        "named": true,
        // The definition as long-name parameter objects; needs the transformation grammar.
        "info": [],
        "derived": derived,
    })
}

// ------------------------------------------------------------------ checks

fn required<'a>(params: &'a Params, key: &str) -> Result<&'a str, ApiError> {
    params
        .get(key)
        .ok_or_else(|| ApiError::bad_input(format!("Missing required parameter - {key}")))
}

/// A parameter's value if it was sent at all; `""` when sent empty, which `Params::get` hides.
fn given<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params
        .get(key)
        .or_else(|| params.iter().any(|(k, _)| k == key).then_some(""))
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Transformation {name} not found"))
}

/// A name is used in URLs as `t_<name>`, so it may hold only characters that cannot be mistaken
/// for the rest of a transformation: ASCII letters, digits, `_` and `-`.
fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::bad_input("Transformation name must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::bad_input(format!(
            "Invalid transformation name: longer than {MAX_NAME_CHARS} characters"
        )));
    }
    let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    else {
        return Ok(());
    };
    let why = match bad {
        '/' => " ('/' separates transformation components)",
        ',' => " (',' separates transformation parameters)",
        '.' => " ('.' chains named transformations, as in t_a.b)",
        _ => "",
    };
    Err(ApiError::bad_input(format!(
        "Invalid transformation name {name:?}: {bad:?} is not allowed{why}; \
         use only letters, digits, '_' and '-'"
    )))
}

/// Whether `text` may be saved as the definition of the named transformation `name`.
fn check_definition(name: &str, text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err(format!(
            "Invalid definition for transformation {name}: it is empty"
        ));
    }
    // A trailing `/<ext>` (as in eager strings) names a format, not a component.
    let (text, _) = crate::url::split_format(text.trim());
    let parsed = crate::url::Transformation::parse_str(text)
        .map_err(|e| format!("Invalid definition for transformation {name}: {e}"))?;
    let refers_to_itself = parsed.named_references().iter().any(|n| n == name);
    if refers_to_itself {
        return Err(format!(
            "Invalid definition for transformation {name}: it refers to itself (t_{name})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_letters_digits_underscore_and_dash() {
        for good in ["thumb", "small_profile-2", "T_x", "0"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for (bad, says) in [
            ("", "must not be empty"),
            ("a/b", "'/' separates transformation components"),
            ("a,b", "',' separates transformation parameters"),
            ("a.b", "'.' chains named transformations"),
            ("a b", "' ' is not allowed"),
            ("é", "'é' is not allowed"),
        ] {
            let err = check_name(bad).expect_err(bad);
            assert!(err.message().contains(says), "{bad}: {}", err.message());
        }
        assert!(check_name(&"a".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(check_name(&"a".repeat(MAX_NAME_CHARS + 1)).is_err());
    }

    #[test]
    fn definitions_must_be_non_empty_and_not_name_themselves() {
        for good in [
            "c_fill,w_100",
            "t_other",
            "t_thumbnail",
            "c_fill/t_a.b",
            "e_sepia/jpg",
        ] {
            assert_eq!(check_definition("thumb", good), Ok(()), "{good}");
        }
        for (bad, says) in [
            ("", "it is empty"),
            ("  ", "it is empty"),
            ("t_thumb", "refers to itself (t_thumb)"),
            ("c_fill,w_100/t_thumb", "refers to itself"),
            ("w_100,t_thumb", "refers to itself"),
            ("t_other.thumb", "refers to itself"),
        ] {
            let err = check_definition("thumb", bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
