//! The Search API over HTTP, on whichever catalog the suite runs on (SQLite, and PostgreSQL in
//! `make test-scale`): the same expressions give the same answers on both.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_message, media, spawn_app};

async fn search(app: &TestApp, body: Value) -> Value {
    let (status, answer) = app
        .admin(Method::POST, "/resources/search", Some(body))
        .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

fn ids(answer: &Value) -> Vec<String> {
    let mut ids: Vec<String> = answer["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["public_id"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids
}

/// Three images tagged `kino`, two in the folder `shelf`.
async fn shelf() -> TestApp {
    let app = spawn_app().await;
    for (pid, file, tags) in [
        ("shelf/red_balloon", "alpha-balloon.png", "kino,balloon"),
        ("shelf/photo", "exif-orient-1.jpg", "kino,photo"),
        ("other/50%_off", "alpha-balloon.png", "kino"),
    ] {
        let (status, body) = app
            .upload_file("image", &media(file), &[("public_id", pid), ("tags", tags)])
            .await;
        assert_eq!(status, 200, "{body}");
    }
    app
}

#[tokio::test]
async fn expressions_select_what_they_name() {
    let app = shelf().await;
    let cases = [
        ("tags:balloon", vec!["shelf/red_balloon"]),
        (
            "tags:kino AND NOT tags:photo",
            vec!["other/50%_off", "shelf/red_balloon"],
        ),
        ("folder=shelf", vec!["shelf/photo", "shelf/red_balloon"]),
        ("public_id:shelf/r*", vec!["shelf/red_balloon"]),
        ("filename:50%*", vec!["other/50%_off"]),
        ("format:jpg OR bytes<100", vec!["shelf/photo"]),
        ("width:{150 TO *] AND tags:kino", vec!["shelf/photo"]),
        (
            "created_at>1h",
            vec!["other/50%_off", "shelf/photo", "shelf/red_balloon"],
        ),
        ("created_at<2001-01-01", vec![]),
        ("\"red_balloon\"", vec!["shelf/red_balloon"]),
    ];
    for (expression, want) in cases {
        let answer = search(&app, json!({"expression": expression})).await;
        assert_eq!(ids(&answer), want, "{expression}: {answer}");
        assert_eq!(answer["total_count"], want.len(), "{expression}");
    }
}

#[tokio::test]
async fn results_sort_page_count_and_refuse_mistakes() {
    let app = shelf().await;
    // Sorted by public id, two per page.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut body = json!({"expression": "tags:kino", "max_results": 2,
                              "sort_by": [{"public_id": "asc"}]});
        if let Some(c) = &cursor {
            body["next_cursor"] = json!(c);
        }
        let answer = search(&app, body).await;
        for r in answer["resources"].as_array().unwrap() {
            seen.push(r["public_id"].as_str().unwrap().to_string());
        }
        match answer["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["other/50%_off", "shelf/photo", "shelf/red_balloon"]);

    let answer = search(
        &app,
        json!({"expression": "tags:kino", "max_results": 0, "aggregate": ["format"]}),
    )
    .await;
    assert_eq!(answer["resources"], json!([]));
    assert_eq!(
        answer["aggregations"]["format"],
        json!({"png": 2, "jpg": 1})
    );

    // The GET form, and a mistake.
    let r = app
        .client
        .get(format!(
            "{}/v1_1/demo/resources/search?expression=tags%3Aphoto",
            app.base
        ))
        .basic_auth(crate::helpers::KEY, Some(crate::helpers::SECRET))
        .send()
        .await
        .unwrap();
    let answer: Value = r.json().await.unwrap();
    assert_eq!(ids(&answer), ["shelf/photo"]);
    let (status, body) = app
        .admin(
            Method::POST,
            "/resources/search",
            Some(json!({"expression": "size>3"})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        error_message(&body),
        "Invalid search expression: unknown field \"size\""
    );
}

#[tokio::test]
async fn structured_metadata_and_context_are_searchable() {
    let app = spawn_app().await;
    for (body, _) in [
        (
            json!({"type": "integer", "external_id": "rating", "label": "Rating"}),
            (),
        ),
        (
            json!({"type": "date", "external_id": "shot", "label": "Shot"}),
            (),
        ),
        (
            json!({"type": "set", "external_id": "places", "label": "Places",
                   "datasource": {"values": [{"value": "Home"}, {"value": "Work"}]}}),
            (),
        ),
    ] {
        let (status, field) = app
            .admin(Method::POST, "/metadata_fields", Some(body))
            .await;
        assert_eq!(status, 200, "{field}");
    }
    for (pid, metadata, context) in [
        (
            "a",
            "rating=2|shot=2023-05-01|places=[\"home\"]",
            "alt=a dog",
        ),
        (
            "b",
            "rating=4|shot=2024-07-01|places=[\"home\",\"work\"]",
            "alt=two cats",
        ),
        ("c", "rating=5", "alt=50% off"),
    ] {
        let (status, body) = app
            .upload_file(
                "image",
                &media("alpha-balloon.png"),
                &[
                    ("public_id", pid),
                    ("metadata", metadata),
                    ("context", context),
                ],
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    for (expression, expected) in [
        ("metadata.rating>=4", vec!["b", "c"]),
        ("metadata.rating:[2 TO 4}", vec!["a"]),
        ("metadata.rating=5", vec!["c"]),
        ("metadata.shot<2024-01-01", vec!["a"]),
        ("metadata.shot:[2024-01-01 TO *]", vec!["b"]),
        ("metadata.places:work", vec!["b"]),
        (
            "metadata.places:home AND NOT metadata.places:work",
            vec!["a"],
        ),
        ("context.alt:two*", vec!["b"]),
        ("context.alt=\"a dog\"", vec!["a"]),
        ("context.alt:50%*", vec!["c"]),
        ("context.other:x", vec![]),
    ] {
        let answer = search(&app, json!({"expression": expression})).await;
        assert_eq!(ids(&answer), expected, "{expression}");
    }
    // Context changed later is found by its new value.
    let (status, _) = app
        .admin(
            Method::POST,
            "/resources/image/upload/a",
            Some(json!({"context": "alt=a bird"})),
        )
        .await;
    assert_eq!(status, 200);
    let answer = search(&app, json!({"expression": "context.alt:\"a bird\""})).await;
    assert_eq!(ids(&answer), ["a"]);
}

#[tokio::test]
async fn durations_compare_and_sort() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    for (pid, seconds) in [("short", 2), ("long", 6)] {
        let clip = crate::helpers::make_clip(dir.path(), &format!("{pid}.mp4"), seconds, true);
        let (status, body) = app.upload_file("video", &clip, &[("public_id", pid)]).await;
        assert_eq!(status, 200, "{body}");
    }
    app.upload_file(
        "image",
        &media("alpha-balloon.png"),
        &[("public_id", "still")],
    )
    .await;
    for (expression, expected) in [
        ("duration>4", vec!["long"]),
        ("duration:[1 TO 3]", vec!["short"]),
        ("duration<100", vec!["long", "short"]),
    ] {
        let answer = search(&app, json!({"expression": expression})).await;
        assert_eq!(ids(&answer), expected, "{expression}");
    }
    let answer = search(
        &app,
        json!({"expression": "resource_type:video", "sort_by": [{"duration": "asc"}]}),
    )
    .await;
    let order: Vec<&str> = answer["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["public_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["short", "long"]);
}
