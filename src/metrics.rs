//! What `/metrics` counts, kept in memory per process and printed in Prometheus's text format:
//! requests by route and status, bytes sent, how long transformations take, and how derived
//! files were found (stored, joined while being made, or made). Gauges that already live
//! elsewhere (the engine queue, live sessions) are passed in when the page is printed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the transformation-time histogram, in seconds.
const BUCKETS: [f64; 11] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// How a delivered derived file was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Already in the store.
    Stored,
    /// Being made for another request: this one follows it.
    Joined,
    /// Made for this request.
    Made,
}

/// The process's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (route template, method, status) → requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    bytes_sent: AtomicU64,
    /// Cumulative counts per bucket, then the sum (microseconds) and the count.
    transform_buckets: [AtomicU64; BUCKETS.len()],
    transform_micros: AtomicU64,
    transforms: AtomicU64,
    derived: [AtomicU64; 3],
}

/// A gauge or counter owned elsewhere, printed with the rest.
#[derive(Debug, Clone, Copy)]
pub struct External {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: &'static str,
    pub value: f64,
}

impl Metrics {
    pub fn count_request(&self, route: &str, method: &str, status: u16) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route.to_string(), method.to_string(), status))
                .or_insert(0) += 1;
        }
    }

    pub fn add_bytes_sent(&self, n: u64) {
        self.bytes_sent.fetch_add(n, Ordering::Relaxed);
    }

    /// Records one finished engine run of `seconds`.
    pub fn observe_transform(&self, seconds: f64) {
        for (bound, bucket) in BUCKETS.iter().zip(&self.transform_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        let micros = (seconds.max(0.0) * 1e6) as u64;
        self.transform_micros.fetch_add(micros, Ordering::Relaxed);
        self.transforms.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_derived(&self, lookup: Lookup) {
        self.derived[lookup as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The whole page.
    pub fn render(&self, external: &[External]) -> String {
        let mut out = String::new();
        header(
            &mut out,
            "kino_http_requests_total",
            "HTTP requests answered, by route template, method and status.",
            "counter",
        );
        if let Ok(r) = self.requests.lock() {
            for ((route, method, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "kino_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        header(
            &mut out,
            "kino_http_sent_bytes_total",
            "Response body bytes sent.",
            "counter",
        );
        let _ = writeln!(
            out,
            "kino_http_sent_bytes_total {}",
            self.bytes_sent.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            "kino_transform_seconds",
            "Time engine runs of transformations took, from start to the stored output.",
            "histogram",
        );
        for (bound, bucket) in BUCKETS.iter().zip(&self.transform_buckets) {
            let _ = writeln!(
                out,
                "kino_transform_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.transforms.load(Ordering::Relaxed);
        let _ = writeln!(out, "kino_transform_seconds_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.transform_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "kino_transform_seconds_sum {sum}");
        let _ = writeln!(out, "kino_transform_seconds_count {count}");
        header(
            &mut out,
            "kino_derived_lookups_total",
            "Derived files asked for, by how they were found: stored (a cache hit), joined \
             (being made for another request) or made.",
            "counter",
        );
        for (name, lookup) in [
            ("stored", Lookup::Stored),
            ("joined", Lookup::Joined),
            ("made", Lookup::Made),
        ] {
            let _ = writeln!(
                out,
                "kino_derived_lookups_total{{found=\"{name}\"}} {}",
                self.derived[lookup as usize].load(Ordering::Relaxed)
            );
        }
        for e in external {
            header(&mut out, e.name, e.help, e.kind);
            let _ = writeln!(out, "{} {}", e.name, e.value);
        }
        out
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_counts_what_happened() {
        let m = Metrics::default();
        m.count_request("/v1_1/{cloud}/{rt}/upload", "POST", 200);
        m.count_request("/v1_1/{cloud}/{rt}/upload", "POST", 200);
        m.count_request("/healthz", "GET", 200);
        m.add_bytes_sent(1000);
        m.observe_transform(0.3);
        m.observe_transform(7.0);
        m.count_derived(Lookup::Stored);
        m.count_derived(Lookup::Made);
        let page = m.render(&[External {
            name: "kino_engine_queued",
            help: "Queue places taken.",
            kind: "gauge",
            value: 2.0,
        }]);
        for line in [
            r#"kino_http_requests_total{route="/v1_1/{cloud}/{rt}/upload",method="POST",status="200"} 2"#,
            r#"kino_http_requests_total{route="/healthz",method="GET",status="200"} 1"#,
            "kino_http_sent_bytes_total 1000",
            r#"kino_transform_seconds_bucket{le="0.25"} 0"#,
            r#"kino_transform_seconds_bucket{le="0.5"} 1"#,
            r#"kino_transform_seconds_bucket{le="10"} 2"#,
            r#"kino_transform_seconds_bucket{le="+Inf"} 2"#,
            "kino_transform_seconds_sum 7.3",
            "kino_transform_seconds_count 2",
            r#"kino_derived_lookups_total{found="stored"} 1"#,
            r#"kino_derived_lookups_total{found="joined"} 0"#,
            "# TYPE kino_engine_queued gauge",
            "kino_engine_queued 2",
        ] {
            assert!(
                page.lines().any(|l| l == line),
                "{line} missing from\n{page}"
            );
        }
    }
}
