//! Admin named transformations, in both request shapes: the SDKs' `/transformations` with the
//! name in a parameter, and the OpenAPI spec's `/transformations/{name}`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn create(app: &TestApp, name: &str, definition: &str) -> (u16, Value) {
    app.admin(
        Method::POST,
        "/transformations",
        Some(json!({"name": name, "transformation": definition})),
    )
    .await
}

/// A urlencoded Admin call, as the Node SDK sends them.
async fn admin_form(
    app: &TestApp,
    method: Method,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let r = app
        .client
        .request(method, format!("{}/v1_1/{CLOUD}{path}", app.base))
        .basic_auth(KEY, Some(SECRET))
        .form(form)
        .send()
        .await
        .expect("request");
    json_of(r).await
}

fn details(name: &str, allowed_for_strict: bool) -> Value {
    json!({
        "name": name,
        "allowed_for_strict": allowed_for_strict,
        "used": false,
        "named": true,
        "info": [],
        "derived": [],
    })
}

#[tokio::test]
async fn lifecycle_in_the_sdk_shape() {
    let app = spawn_app().await;

    // Create, then the same name again.
    assert_eq!(
        create(&app, "thumb", "c_fill,w_100,h_100").await,
        (200, json!({"message": "created"}))
    );
    let (status, body) = create(&app, "thumb", "w_5").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(error_message(&body), "Transformation thumb already exists");

    // Details survive a restart; new names are allowed for strict mode by default.
    let app = app.restart().await;
    let (status, body) = app
        .admin(Method::GET, "/transformations?transformation=thumb", None)
        .await;
    assert_eq!((status, body), (200, details("thumb", true)));

    // Update the definition and the strict flag.
    let update = json!({"transformation": "thumb", "unsafe_update": "c_fill,w_200", "allowed_for_strict": false});
    assert_eq!(
        app.admin(Method::PUT, "/transformations", Some(update))
            .await,
        (200, json!({"message": "updated"}))
    );
    let (_, body) = app
        .admin(Method::GET, "/transformations?transformation=thumb", None)
        .await;
    assert_eq!(body, details("thumb", false));

    // Delete; afterwards every call by that name is a 404.
    let delete = json!({"transformation": "thumb"});
    assert_eq!(
        app.admin(Method::DELETE, "/transformations", Some(delete.clone()))
            .await,
        (200, json!({"message": "deleted"}))
    );
    let (status, body) = app
        .admin(Method::GET, "/transformations?transformation=thumb", None)
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(error_message(&body), "Transformation thumb not found");
    let (status, _) = app
        .admin(Method::DELETE, "/transformations", Some(delete))
        .await;
    assert_eq!(status, 404);
    let update = json!({"transformation": "thumb", "allowed_for_strict": true});
    let (status, _) = app
        .admin(Method::PUT, "/transformations", Some(update))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn lifecycle_in_the_openapi_shape() {
    let app = spawn_app().await;
    let body = json!({"transformation": "w_300/e_sepia", "allowed_for_strict": false});
    assert_eq!(
        app.admin(Method::POST, "/transformations/sepia-300", Some(body))
            .await,
        (200, json!({"message": "created"}))
    );
    let (status, body) = app
        .admin(
            Method::POST,
            "/transformations/sepia-300",
            Some(json!({"transformation": "w_1"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        app.admin(Method::GET, "/transformations/sepia-300", None)
            .await,
        (200, details("sepia-300", false))
    );
    assert_eq!(
        app.admin(
            Method::PUT,
            "/transformations/sepia-300",
            Some(json!({"allowed_for_strict": true}))
        )
        .await,
        (200, json!({"message": "updated"}))
    );
    assert_eq!(
        app.admin(Method::GET, "/transformations/sepia-300", None)
            .await
            .1["allowed_for_strict"],
        true
    );
    assert_eq!(
        app.admin(Method::DELETE, "/transformations/sepia-300", None)
            .await,
        (200, json!({"message": "deleted"}))
    );
    let (status, body) = app
        .admin(Method::GET, "/transformations/sepia-300", None)
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(error_message(&body), "Transformation sepia-300 not found");
}

/// Node sends Admin bodies urlencoded, and `%2F`-encodes the path.
#[tokio::test]
async fn form_bodies_work_too() {
    let app = spawn_app().await;
    let form = [("name", "fromnode"), ("transformation", "c_scale,w_50")];
    assert_eq!(
        admin_form(&app, Method::POST, "/transformations", &form).await,
        (200, json!({"message": "created"}))
    );
    let form = [
        ("transformation", "fromnode"),
        ("allowed_for_strict", "false"),
    ];
    assert_eq!(
        admin_form(&app, Method::PUT, "/transformations", &form).await,
        (200, json!({"message": "updated"}))
    );
    assert_eq!(
        app.admin(Method::GET, "/transformations%2Ffromnode", None)
            .await,
        (200, details("fromnode", false))
    );
    let form = [("transformation", "fromnode")];
    assert_eq!(
        admin_form(&app, Method::DELETE, "/transformations", &form).await,
        (200, json!({"message": "deleted"}))
    );
}

#[tokio::test]
async fn listing_pages_by_name_with_next_cursor() {
    let app = spawn_app().await;
    for name in ["p-3", "p-1", "p-4", "p-0", "p-2"] {
        assert_eq!(create(&app, name, "w_10").await.0, 200);
    }

    let mut seen = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/transformations?max_results=2&next_cursor={c}"),
            None => "/transformations?max_results=2".to_string(),
        };
        let (status, body) = app.admin(Method::GET, &path, None).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        let items = body["transformations"].as_array().expect("a list");
        assert!(items.len() <= 2, "{body}");
        for item in items {
            assert_eq!(item["named"], true, "{item}");
            assert_eq!(item["used"], false, "{item}");
            assert_eq!(item["allowed_for_strict"], true, "{item}");
            seen.push(item["name"].as_str().expect("a name").to_string());
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => {
                assert!(body["next_cursor"].is_null(), "{body}");
                break;
            }
        }
        assert!(pages < 10, "paging does not end");
    }

    // Every name once, in order, with the `t_` prefix a URL would use.
    assert_eq!(seen, ["t_p-0", "t_p-1", "t_p-2", "t_p-3", "t_p-4"]);
    assert_eq!(pages, 3);

    // Only named transformations exist, so `named=false` lists none.
    let (status, body) = app
        .admin(Method::GET, "/transformations?named=false", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"transformations": [], "next_cursor": null}));
    let (_, body) = app
        .admin(
            Method::GET,
            "/transformations?named=true&max_results=500",
            None,
        )
        .await;
    assert_eq!(body["transformations"].as_array().map(Vec::len), Some(5));

    // Bad paging parameters.
    let (status, body) = app
        .admin(Method::GET, "/transformations?max_results=0", None)
        .await;
    assert_eq!(status, 400);
    assert!(error_message(&body).contains("max_results"), "{body}");
    let (status, body) = app
        .admin(Method::GET, "/transformations?next_cursor=%25%25", None)
        .await;
    assert_eq!(status, 400);
    assert!(error_message(&body).contains("next_cursor"), "{body}");
}

#[tokio::test]
async fn bad_names_and_definitions_are_400_and_say_why() {
    let app = spawn_app().await;
    for (name, says) in [
        ("a.b", "'.' chains named transformations"),
        ("a,b", "',' separates transformation parameters"),
        ("a/b", "'/' separates transformation components"),
        ("a b", "' ' is not allowed"),
    ] {
        let (status, body) = create(&app, name, "w_10").await;
        assert_eq!(status, 400, "{name}: {body}");
        let message = error_message(&body);
        assert!(message.contains("Invalid transformation name"), "{message}");
        assert!(message.contains(says), "{message}");
    }
    // A transformation string is not a name Kino can look up.
    let (status, body) = app
        .admin(
            Method::GET,
            "/transformations?transformation=c_scale,w_100",
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");

    // Missing parameters.
    let (status, body) = app
        .admin(
            Method::POST,
            "/transformations",
            Some(json!({"transformation": "w_1"})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_message(&body), "Missing required parameter - name");
    let (status, body) = app
        .admin(Method::POST, "/transformations", Some(json!({"name": "x"})))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        error_message(&body),
        "Missing required parameter - transformation"
    );
    let (status, body) = app
        .admin(Method::DELETE, "/transformations", Some(json!({})))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        error_message(&body),
        "Missing required parameter - transformation"
    );

    // Definitions: not itself, not empty, and an update must change something.
    let (status, body) = create(&app, "loop", "c_fill,w_10/t_loop").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        error_message(&body).contains("refers to itself (t_loop)"),
        "{body}"
    );
    assert_eq!(create(&app, "ok", "w_10").await.0, 200);
    for (update, says) in [
        (
            json!({"transformation": "ok", "unsafe_update": ""}),
            "it is empty",
        ),
        (
            json!({"transformation": "ok", "unsafe_update": "t_ok"}),
            "refers to itself",
        ),
        (json!({"transformation": "ok"}), "Nothing to update"),
        (
            json!({"transformation": "ok", "allowed_for_strict": "maybe"}),
            "allowed_for_strict",
        ),
    ] {
        let (status, body) = app
            .admin(Method::PUT, "/transformations", Some(update.clone()))
            .await;
        assert_eq!(status, 400, "{update}: {body}");
        assert!(error_message(&body).contains(says), "{update}: {body}");
    }
    // None of that was stored.
    let (_, body) = app.admin(Method::GET, "/transformations", None).await;
    assert_eq!(
        body["transformations"],
        json!([{"name": "t_ok", "allowed_for_strict": true, "used": false, "named": true}])
    );
}

#[tokio::test]
async fn every_call_needs_admin_credentials() {
    let app = spawn_app().await;
    let url = format!("{}/v1_1/{CLOUD}/transformations", app.base);
    let (status, body) = json_of(app.client.get(&url).send().await.expect("request")).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_message(&body), "Must supply api_key");
    let r = app
        .client
        .post(&url)
        .json(&json!({"name": "sneaky", "transformation": "w_1"}))
        .send()
        .await
        .expect("request");
    assert_eq!(json_of(r).await.0, 401);
    let r = app
        .client
        .delete(format!("{url}/sneaky"))
        .basic_auth(KEY, Some("wrong"))
        .send()
        .await
        .expect("request");
    assert_eq!(json_of(r).await.0, 401);
    // Nothing was created.
    let (_, body) = app.admin(Method::GET, "/transformations", None).await;
    assert_eq!(body["transformations"], json!([]));
}
