//! The job queue as a user meets it: notifications that nobody takes are retried with a
//! growing delay, then kept as failed with their error — never dropped silently.

use std::time::Duration;

use kino::catalog::{Catalog, JobRow};

use crate::helpers::{CLOUD, make_clip, media, spawn_app_with};

/// Waits (up to `limit`) for the first job `pick` accepts.
async fn wait_for_job(
    catalog: &Catalog,
    limit: Duration,
    pick: impl Fn(&JobRow) -> bool,
) -> JobRow {
    let started = std::time::Instant::now();
    loop {
        let jobs = catalog.list_jobs(CLOUD, 10).await.unwrap();
        if let Some(j) = jobs.iter().find(|j| pick(j)) {
            return j.clone();
        }
        assert!(started.elapsed() < limit, "no such job yet: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_notification_nobody_takes_is_retried_then_kept_as_failed() {
    let app = spawn_app_with(|c| {
        c.jobs.retry_secs = 1;
        c.jobs.max_attempts = 3;
        c.jobs.notify_timeout_secs = 2;
    })
    .await;
    // Port 1: nothing listens there.
    let (status, body) = app
        .upload_file(
            "image",
            &media("photo-denali.webp"),
            &[
                ("public_id", "p"),
                ("notification_url", "http://127.0.0.1:1/hook"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let catalog = Catalog::open(&app.database_url()).await.unwrap();
    let started = std::time::Instant::now();
    let job = wait_for_job(&catalog, Duration::from_secs(30), |j| j.state == "failed").await;
    // Three attempts, 1 s then 2 s apart.
    assert_eq!((job.kind.as_str(), job.attempts), ("notify", 3));
    assert!(started.elapsed() >= Duration::from_secs(3));
    let error = job.last_error.unwrap_or_default();
    assert!(error.contains("http://127.0.0.1:1/hook"), "{error}");
    app.assert_alive().await;
}

/// Several claimers at once (two nodes' worth of catalog handles, four tasks each) never get
/// the same job: on PostgreSQL the claim skips rows another claimer has locked.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_claimers_never_share_a_job() {
    use kino::catalog::NewJob;
    let app = spawn_app_with(|_| {}).await;
    // Due only in the far future, so the app's own job runner leaves them alone.
    let due = 1_i64 << 60;
    let nodes = [
        Catalog::open(&app.database_url()).await.unwrap(),
        Catalog::open(&app.database_url()).await.unwrap(),
    ];
    for i in 0..40 {
        let job = NewJob {
            id: format!("job-{i:02}"),
            cloud: CLOUD.into(),
            kind: "test".into(),
            payload: "{}".into(),
            run_after: due,
        };
        nodes[0].enqueue_job(&job, 0).await.unwrap();
    }
    let claimers = (0..8).map(|k| {
        let catalog = nodes[k % 2].clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            let node = format!("node-{k}");
            while let Some(job) = catalog.claim_job(&node, due, i64::MAX).await.unwrap() {
                mine.push(job.id);
            }
            mine
        })
    });
    let mut claimed: Vec<String> = Vec::new();
    for c in futures::future::join_all(claimers).await {
        claimed.extend(c.unwrap());
    }
    claimed.sort();
    let expected: Vec<String> = (0..40).map(|i| format!("job-{i:02}")).collect();
    assert_eq!(claimed, expected, "each job claimed exactly once");
}

/// A node stopped while it runs a job hands the job back when it starts again: the job runs at
/// once, not after its lease (a minute here) runs out.
#[tokio::test]
async fn a_job_interrupted_by_a_stop_runs_again_at_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path(), "long.mp4", 20, true);
    let app = spawn_app_with(|c| c.jobs.lease_secs = 60).await;
    let (status, body) = app
        .upload_file(
            "video",
            &clip,
            &[
                ("public_id", "long"),
                ("eager", "c_pad,w_1280,h_720,b_blurred:400:15"),
                ("eager_async", "true"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let catalog = Catalog::open(&app.database_url()).await.unwrap();
    wait_for_job(&catalog, Duration::from_secs(20), |j| j.state == "running").await;

    let app = app.restart_with(|c| c.jobs.lease_secs = 60).await;

    let job = wait_for_job(&catalog, Duration::from_secs(40), |j| j.state == "done").await;
    assert_eq!(job.attempts, 2, "{job:?}");
    let (_, details) = app
        .admin(reqwest::Method::GET, "/resources/video/upload/long", None)
        .await;
    assert_eq!(
        details["derived"].as_array().map(Vec::len),
        Some(1),
        "{details}"
    );
}

/// An eager ladder queued with `eager_async` reports how far it has got: the share of its
/// segments stored, rising to 1 when the job is done; the job's id is the upload's batch id.
#[tokio::test]
async fn an_eager_ladder_reports_its_progress() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path(), "ladder.mp4", 30, true);
    let app = spawn_app_with(|_| {}).await;
    let (status, body) = app
        .upload_file(
            "video",
            &clip,
            &[
                ("public_id", "ladder"),
                ("eager", "sp_sd/m3u8"),
                ("eager_async", "true"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let batch = body["eager"][0]["batch_id"]
        .as_str()
        .expect("batch id")
        .to_string();

    let started = std::time::Instant::now();
    let mut seen: Vec<f64> = Vec::new();
    loop {
        let (status, job) = app
            .admin(reqwest::Method::GET, &format!("/jobs/{batch}"), None)
            .await;
        assert_eq!(status, 200, "{job}");
        assert_eq!(job["kind"], "eager");
        assert_eq!(job["public_id"], "ladder");
        let progress = job["progress"].as_f64().expect("progress");
        if seen.last() != Some(&progress) {
            seen.push(progress);
        }
        if job["state"] == "done" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "never backwards: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&1.0));
    assert!(
        seen.iter().any(|p| *p > 0.0 && *p < 1.0),
        "seen part-way: {seen:?}"
    );
    let (status, list) = app.admin(reqwest::Method::GET, "/jobs", None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["jobs"][0]["id"], batch.as_str());
    let (status, missing) = app.admin(reqwest::Method::GET, "/jobs/nothing", None).await;
    assert_eq!(status, 404, "{missing}");
}
