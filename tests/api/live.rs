//! Live streams as users drive them: the Live Streaming API over HTTP, the `ffmpeg` CLI
//! publishing over RTMP and SRT, ffprobe and plain HTTP reading the low-latency HLS while it
//! runs, and the recording checked as an asset afterwards. Faults: wrong keys, a second
//! publisher, garbage on the RTMP port, a publisher killed mid-GOP and one that stalls.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{CLOUD, KEY, SECRET, TestApp, error_message, ffprobe, json_of, spawn_app};

/// A Live Streaming API call (`/v2/video/{cloud}/…`) with basic auth.
async fn live_api(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, format!("{}/v2/video/{CLOUD}{path}", app.base))
        .basic_auth(KEY, Some(SECRET));
    if let Some(b) = body {
        req = req.json(&b);
    }
    json_of(req.send().await.expect("request")).await
}

/// Creates a stream; its `data`.
async fn create_stream(app: &TestApp, body: Value) -> Value {
    let (status, created) = live_api(app, Method::POST, "/live_streams", Some(body)).await;
    assert_eq!(status, 200, "{created}");
    created["data"].clone()
}

/// `ffmpeg` publishing a generated 640x360 clip with sound, in real time, to `url`.
fn publish(url: &str, seconds: u32, gop: u32, format: &str) -> Child {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", &seconds.to_string()])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "zerolatency",
        ])
        .args(["-g", &gop.to_string(), "-pix_fmt", "yuv420p", "-c:a", "aac"])
        .args(["-f", format, url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ffmpeg is installed (make setup)")
}

fn rtmp_url(stream: &Value) -> String {
    format!(
        "{}/{}",
        stream["input"]["uri"].as_str().expect("rtmp uri"),
        stream["input"]["stream_key"].as_str().expect("key")
    )
}

fn playback(stream: &Value) -> String {
    stream["outputs"][0]["uri"]
        .as_str()
        .expect("hls output uri")
        .to_string()
}

async fn text(app: &TestApp, url: &str) -> (u16, String) {
    let r = app.client.get(url).send().await.expect("request");
    (r.status().as_u16(), r.text().await.expect("body"))
}

/// Polls `url` until its body satisfies `done` (or panics after `within`).
async fn wait_for_text(
    app: &TestApp,
    url: &str,
    within: Duration,
    done: impl Fn(&str) -> bool,
) -> String {
    let start = Instant::now();
    loop {
        let (status, body) = text(app, url).await;
        if status == 200 && done(&body) {
            return body;
        }
        assert!(
            start.elapsed() < within,
            "{url} never became ready: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits for a child process to exit on its own.
fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(start.elapsed() < within, "the publisher did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig}");
}

/// `EXTINF` durations of a media playlist.
fn extinfs(playlist: &str) -> Vec<f64> {
    playlist
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .filter_map(|l| l.trim_end_matches(',').parse().ok())
        .collect()
}

/// The recording asset of a stream once stored (polls the Admin API).
async fn recording(app: &TestApp, stream_id: &str, within: Duration) -> Value {
    let path = format!("/resources/video/upload/live_stream_{stream_id}_archive");
    let start = Instant::now();
    loop {
        let (status, body) = app.admin(Method::GET, &path, None).await;
        if status == 200 {
            return body;
        }
        assert!(start.elapsed() < within, "no recording: {status} {body}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// What a new stream shows: ids, defaults, both input URIs and the two default outputs.
fn check_created(app: &TestApp, s: &Value) {
    let id = s["id"].as_str().expect("id");
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(s["name"], "Morning show");
    assert_eq!(s["status"], "idle");
    assert_eq!(s["idle_timeout_sec"], 120);
    assert_eq!(s["max_runtime_sec"], 10800);
    assert_eq!(s["input"]["type"], "rtmp");
    let key = s["input"]["stream_key"].as_str().expect("key");
    assert_eq!(key.len(), 20);
    let rtmp = s["input"]["uri"].as_str().expect("uri");
    assert!(
        rtmp.starts_with("rtmp://127.0.0.1:") && rtmp.ends_with("/streams"),
        "{rtmp}"
    );
    let srt = s["input"]["srt_uri"].as_str().expect("srt uri");
    assert!(
        srt.starts_with("srt://127.0.0.1:") && srt.ends_with(&format!("?streamid={key}")),
        "{srt}"
    );
    assert_eq!(s["outputs"][0]["type"], "hls");
    assert_eq!(s["outputs"][0]["name"], "default hls");
    assert_eq!(
        playback(s),
        format!("{}/{CLOUD}/video/live/live_stream_{id}_hls.m3u8", app.base)
    );
    assert_eq!(s["outputs"][1]["type"], "archive");
    assert_eq!(
        s["outputs"][1]["public_id"],
        format!("live_stream_{id}_archive")
    );
    assert!(s["created_at"].as_i64().expect("ms") > 1_700_000_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_live_streams_api_creates_shows_changes_and_deletes_streams() {
    let app = spawn_app().await;
    let s = create_stream(
        &app,
        json!({"name": "Morning show", "input": {"type": "rtmp"}}),
    )
    .await;
    check_created(&app, &s);
    let id = s["id"].as_str().expect("id");
    let key = s["input"]["stream_key"].as_str().expect("key");

    let (status, list) = live_api(&app, Method::GET, "/live_streams", None).await;
    assert_eq!(status, 200);
    assert!(list["request_id"].is_string());
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1));

    let (status, changed) = live_api(
        &app,
        Method::PATCH,
        &format!("/live_streams/{id}"),
        Some(json!({"name": "Evening show", "idle_timeout_sec": 30})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["data"]["name"], "Evening show");
    assert_eq!(changed["data"]["idle_timeout_sec"], 30);
    assert_eq!(
        changed["data"]["input"]["stream_key"], key,
        "the key is permanent"
    );

    let (status, body) = live_api(
        &app,
        Method::POST,
        &format!("/live_streams/{id}/activate"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["data"]["message"].as_str()),
        (200, Some("activated"))
    );
    let (_, shown) = live_api(&app, Method::GET, &format!("/live_streams/{id}"), None).await;
    assert_eq!(shown["data"]["status"], "active");
    let (status, _) = live_api(
        &app,
        Method::POST,
        &format!("/live_streams/{id}/idle"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, shown) = live_api(&app, Method::GET, &format!("/live_streams/{id}"), None).await;
    assert_eq!(shown["data"]["status"], "idle");

    let (status, body) = live_api(&app, Method::DELETE, &format!("/live_streams/{id}"), None).await;
    assert_eq!(
        (status, body["data"]["message"].as_str()),
        (200, Some("deleted"))
    );
    let (status, body) = live_api(&app, Method::GET, &format!("/live_streams/{id}"), None).await;
    assert_eq!(status, 404);
    assert!(
        body["request_id"].is_string(),
        "errors keep the envelope: {body}"
    );
    assert!(error_message(&body).contains(id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn archive_outputs_are_added_renamed_and_removed() {
    let app = spawn_app().await;
    let s = create_stream(&app, json!({})).await;
    let id = s["id"].as_str().expect("id");
    // Outputs: a second archive, renamed, then removed; the hls output stays.
    let (status, out) = live_api(
        &app,
        Method::POST,
        &format!("/live_streams/{id}/outputs"),
        Some(json!({"type": "archive", "public_id": "shows/evening"})),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let out_id = out["data"]["id"].as_str().expect("output id").to_string();
    let (status, out) = live_api(
        &app,
        Method::PATCH,
        &format!("/live_streams/{id}/outputs/{out_id}"),
        Some(json!({"name": "backup"})),
    )
    .await;
    assert_eq!(
        (status, out["data"]["name"].as_str()),
        (200, Some("backup"))
    );
    let (_, outs) = live_api(
        &app,
        Method::GET,
        &format!("/live_streams/{id}/outputs"),
        None,
    )
    .await;
    assert_eq!(outs["data"].as_array().map(Vec::len), Some(3));
    let (status, _) = live_api(
        &app,
        Method::DELETE,
        &format!("/live_streams/{id}/outputs/{out_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_live_stream_requests_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let unauthorized = app
        .client
        .get(format!("{}/v2/video/{CLOUD}/live_streams", app.base))
        .basic_auth(KEY, Some("wrong"))
        .send()
        .await
        .expect("request");
    let (status, body) = json_of(unauthorized).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["request_id"].is_string());

    for (body, names) in [
        (json!({"nmae": "typo"}), "nmae"),
        (json!({"idle_timeout_sec": 0}), "idle_timeout_sec"),
        (json!({"max_runtime_sec": -5}), "max_runtime_sec"),
        (json!({"input": {"type": "webrtc"}}), "webrtc"),
        (json!({"name": "x".repeat(300)}), "name"),
        (
            json!({"notification_url": "ftp://example.com"}),
            "notification URL",
        ),
    ] {
        let (status, answer) =
            live_api(&app, Method::POST, "/live_streams", Some(body.clone())).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(error_message(&answer).contains(names), "{body} → {answer}");
    }
    let (status, answer) = live_api(
        &app,
        Method::POST,
        "/live_streams",
        Some(json!({"streaming_profile": "nope"})),
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    let raw = app
        .client
        .post(format!("{}/v2/video/{CLOUD}/live_streams", app.base))
        .basic_auth(KEY, Some(SECRET))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(raw.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_output_and_playlist_requests_are_refused() {
    let app = spawn_app().await;
    let s = create_stream(&app, json!({})).await;
    let id = s["id"].as_str().expect("id");
    let (status, answer) = live_api(
        &app,
        Method::POST,
        &format!("/live_streams/{id}/outputs"),
        Some(json!({"type": "simulcast", "uri": "rtmp://a.rtmp.youtube.com/live2", "stream_key": "k"})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(error_message(&answer).contains("simulcast"));
    let hls = s["outputs"][0]["id"].as_str().expect("hls id");
    let (status, _) = live_api(
        &app,
        Method::DELETE,
        &format!("/live_streams/{id}/outputs/{hls}"),
        None,
    )
    .await;
    assert_eq!(status, 400, "the hls output stays");
    let (_, list) = live_api(&app, Method::GET, "/live_streams", None).await;
    assert_eq!(
        list["data"].as_array().map(Vec::len),
        Some(1),
        "only the good one exists"
    );

    // A live playlist of a stream that is not live, and one that never existed.
    let (status, _) = text(&app, &playback(&s)).await;
    assert_eq!(status, 404);
    let (status, _) = text(
        &app,
        &format!(
            "{}/{CLOUD}/video/live/live_stream_../../etc_hls.m3u8",
            app.base
        ),
    )
    .await;
    assert_eq!(status, 404);
}

/// Asking for the hinted part (`_HLS_msn`/`_HLS_part`) holds the request until it exists;
/// asking far ahead is a 400.
async fn check_blocking_reload(app: &TestApp, top: &str, live: &str) {
    // The hinted part is the next one; ask for the one after it (1 s GOPs in 2 s segments:
    // two parts a segment), which is at least one part duration away.
    let hint = live
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\""))
        .expect("hint")
        .trim_end_matches('"')
        .to_string();
    let q: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(hint.split_once('?').expect("query").1.as_bytes())
            .into_owned()
            .collect();
    let msn: u64 = q["s"].parse().expect("msn");
    let part: u64 = q["p"].parse().expect("part");
    let (msn, part) = if part == 0 { (msn, 1) } else { (msn + 1, 0) };
    let asked = Instant::now();
    let (status, blocked) = text(app, &format!("{top}&_HLS_msn={msn}&_HLS_part={part}")).await;
    assert_eq!(status, 200);
    assert!(
        blocked.contains(&format!("&s={msn}&p={part}\"")),
        "the reload waits for part {part} of segment {msn}:\n{blocked}"
    );
    assert!(
        asked.elapsed() > Duration::from_millis(500),
        "it was held until the part was made, not answered at once"
    );
    let (status, _) = text(app, &format!("{top}&_HLS_msn=999")).await;
    assert_eq!(status, 400, "too far ahead");
}

/// The stream's recording: a video asset of `seconds`, delivered and probed.
async fn check_recording(app: &TestApp, id: &str, seconds: f64) {
    // The recording is a video asset of the stream's length, delivered and probed.
    let asset = recording(app, id, Duration::from_secs(20)).await;
    let duration = asset["duration"].as_f64().expect("duration");
    assert!((duration - seconds).abs() < 0.6, "{asset}");
    assert_eq!(
        (asset["width"].as_u64(), asset["height"].as_u64()),
        (Some(640), Some(360))
    );
    let file = app.dir.path().join("recording.mp4");
    let bytes = app
        .client
        .get(asset["secure_url"].as_str().expect("url"))
        .send()
        .await
        .expect("request")
        .bytes()
        .await
        .expect("body");
    std::fs::write(&file, &bytes).expect("write");
    let probe = ffprobe(&file);
    assert_eq!(
        probe["streams"].as_array().map(Vec::len),
        Some(2),
        "{probe}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_rtmp_publish_plays_as_low_latency_hls_and_is_recorded() {
    let app = spawn_app().await;
    let s = create_stream(&app, json!({"name": "rtmp", "idle_timeout_sec": 5})).await;
    let id = s["id"].as_str().expect("id").to_string();
    let mut publisher = publish(&rtmp_url(&s), 8, 30, "flv");
    let master_url = playback(&s);

    // The multivariant playlist: the source (640x360 fits `hd`, passed through) and a 240p rung.
    let master = wait_for_text(&app, &master_url, Duration::from_secs(20), |t| {
        t.contains("#EXT-X-STREAM-INF")
    })
    .await;
    assert!(
        master.contains("RESOLUTION=640x360") && master.contains("RESOLUTION=426x240"),
        "{master}"
    );
    assert!(
        master.contains("CODECS=\"avc1.") && master.contains("mp4a.40.2"),
        "{master}"
    );
    let (_, shown) = live_api(&app, Method::GET, &format!("/live_streams/{id}"), None).await;
    assert_eq!(shown["data"]["status"], "active");

    // The media playlist is LL-HLS.
    let base = master_url.trim_end_matches(".m3u8");
    let top = format!("{base}.m3u8?r=0");
    let live = wait_for_text(&app, &top, Duration::from_secs(20), |t| {
        t.contains("#EXT-X-PART:")
    })
    .await;
    for tag in [
        "#EXT-X-PART-INF:PART-TARGET=1.050",
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3.150",
        "#EXT-X-PROGRAM-DATE-TIME:",
        "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=",
        "#EXT-X-MAP:URI=",
        "#EXT-X-RENDITION-REPORT:",
    ] {
        assert!(live.contains(tag), "{tag} missing:\n{live}");
    }
    assert!(!live.contains("#EXT-X-ENDLIST"));

    check_blocking_reload(&app, &top, &live).await;

    // ffprobe reads the live stream while it runs.
    let probe = ffprobe(std::path::Path::new(&master_url));
    let streams = probe["streams"].as_array().expect("streams");
    assert!(
        streams
            .iter()
            .any(|s| s["codec_name"] == "h264" && s["width"] == 640),
        "{probe}"
    );
    assert!(streams.iter().any(|s| s["codec_name"] == "aac"), "{probe}");

    assert!(wait_exit(&mut publisher, Duration::from_secs(30)).success());
    let ended = wait_for_text(&app, &top, Duration::from_secs(15), |t| {
        t.contains("#EXT-X-ENDLIST")
    })
    .await;
    assert!(!ended.contains("PRELOAD-HINT"));
    // Renditions cut at the same keyframes: equal segment durations.
    let low = wait_for_text(
        &app,
        &format!("{base}.m3u8?r=1"),
        Duration::from_secs(5),
        |t| t.contains("ENDLIST"),
    )
    .await;
    let (a, b) = (extinfs(&ended), extinfs(&low));
    assert_eq!(a.len(), b.len(), "{ended}\n{low}");
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 0.05, "{a:?} vs {b:?}");
    }
    let total: f64 = a.iter().sum();
    assert!((total - 8.0).abs() < 0.6, "{total}");

    check_recording(&app, &id, 8.0).await;
    let (_, shown) = live_api(&app, Method::GET, &format!("/live_streams/{id}"), None).await;
    assert_eq!(shown["data"]["status"], "idle");
    app.assert_alive().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_srt_publish_plays_and_wrong_keys_are_refused() {
    let app = spawn_app().await;
    let s = create_stream(&app, json!({"name": "srt"})).await;
    let srt = s["input"]["srt_uri"].as_str().expect("srt").to_string();

    // Wrong keys are refused by both protocols, and nothing starts.
    let wrong_srt = format!("{}?streamid=notakey", srt.split('?').next().expect("base"));
    let mut bad = publish(&wrong_srt, 2, 30, "mpegts");
    assert!(!wait_exit(&mut bad, Duration::from_secs(20)).success());
    let wrong_rtmp = format!("{}/notakey", s["input"]["uri"].as_str().expect("uri"));
    let mut bad = publish(&wrong_rtmp, 2, 30, "flv");
    assert!(!wait_exit(&mut bad, Duration::from_secs(20)).success());

    let mut publisher = publish(&srt, 6, 30, "mpegts");
    let master_url = playback(&s);
    let master = wait_for_text(&app, &master_url, Duration::from_secs(20), |t| {
        t.contains("#EXT-X-STREAM-INF")
    })
    .await;
    assert!(master.contains("RESOLUTION=640x360"), "{master}");
    let probe = ffprobe(std::path::Path::new(&master_url));
    assert!(
        probe["streams"]
            .as_array()
            .expect("streams")
            .iter()
            .any(|s| s["codec_name"] == "h264"),
        "{probe}"
    );

    // A second publisher on the same key is refused while the first one is live; another
    // stream goes live beside it.
    let mut second = publish(&rtmp_url(&s), 3, 30, "flv");
    assert!(!wait_exit(&mut second, Duration::from_secs(20)).success());
    let other = create_stream(&app, json!({"name": "beside"})).await;
    let mut beside = publish(&rtmp_url(&other), 3, 30, "flv");
    wait_for_text(&app, &playback(&other), Duration::from_secs(20), |t| {
        t.contains("#EXT-X-STREAM-INF")
    })
    .await;

    assert!(wait_exit(&mut publisher, Duration::from_secs(30)).success());
    assert!(wait_exit(&mut beside, Duration::from_secs(30)).success());
    for (stream, seconds) in [(&s, 6.0), (&other, 3.0)] {
        let id = stream["id"].as_str().expect("id");
        let asset = recording(&app, id, Duration::from_secs(30)).await;
        let duration = asset["duration"].as_f64().expect("duration");
        assert!((duration - seconds).abs() < 0.8, "{asset}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn faults_end_the_session_cleanly_and_the_server_keeps_serving() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn_app().await;
    let s = create_stream(&app, json!({"name": "faults", "idle_timeout_sec": 2})).await;
    let id = s["id"].as_str().expect("id").to_string();

    // Garbage on the RTMP port: the connection is dropped, nothing else notices.
    let rtmp = s["input"]["uri"].as_str().expect("uri");
    let address = rtmp
        .trim_start_matches("rtmp://")
        .trim_end_matches("/streams");
    let mut garbage = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let noise: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let _ = garbage.write_all(&noise).await;
    let mut sink = Vec::new();
    let closed =
        tokio::time::timeout(Duration::from_secs(15), garbage.read_to_end(&mut sink)).await;
    assert!(closed.is_ok(), "the server closes a garbage connection");
    app.assert_alive().await;

    // A publisher killed mid-GOP (2 s GOPs, killed at about 3.5 s).
    let mut killed = publish(&rtmp_url(&s), 20, 60, "flv");
    let top = format!("{}.m3u8?r=0", playback(&s).trim_end_matches(".m3u8"));
    wait_for_text(&app, &top, Duration::from_secs(20), |t| {
        t.contains("#EXT-X-PART:")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    signal(&killed, "-KILL");
    let _ = killed.wait();
    let ended = wait_for_text(&app, &top, Duration::from_secs(15), |t| {
        t.contains("#EXT-X-ENDLIST")
    })
    .await;
    assert!(!extinfs(&ended).is_empty(), "{ended}");
    let first = recording(&app, &id, Duration::from_secs(20)).await;
    assert!(
        first["duration"].as_f64().expect("duration") > 1.0,
        "{first}"
    );

    // A publisher that stalls (stopped, connection open): the idle timeout ends the session.
    let mut stalled = publish(&rtmp_url(&s), 20, 30, "flv");
    wait_for_text(&app, &top, Duration::from_secs(20), |t| {
        t.contains("#EXT-X-PART:") && !t.contains("#EXT-X-ENDLIST")
    })
    .await;
    signal(&stalled, "-STOP");
    let stopped_at = Instant::now();
    let ended = wait_for_text(&app, &top, Duration::from_secs(20), |t| {
        t.contains("#EXT-X-ENDLIST")
    })
    .await;
    assert!(
        stopped_at.elapsed() >= Duration::from_secs(2),
        "ended by the idle timeout"
    );
    assert!(!extinfs(&ended).is_empty());
    signal(&stalled, "-KILL");
    let _ = stalled.wait();
    // The second session's recording did not replace the first.
    let (status, second) = app
        .admin(
            Method::GET,
            &format!("/resources/video/upload/live_stream_{id}_archive_2"),
            None,
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut second = (status, second);
    while second.0 != 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        second = app
            .admin(
                Method::GET,
                &format!("/resources/video/upload/live_stream_{id}_archive_2"),
                None,
            )
            .await;
    }
    assert_eq!(second.0, 200, "{}", second.1);
    app.assert_alive().await;
    let (_, shown) = live_api(&app, Method::GET, &format!("/live_streams/{id}"), None).await;
    assert_eq!(shown["data"]["status"], "idle");
}
