//! Fleet-wide queue gauges for `/metrics`, read from the store at scrape time so that one
//! API node reports on every worker, wherever it runs.

use crate::store::{Store, StoreResult};

/// Jobs that ended within this window feed the latency percentiles.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// At most this many of the newest ended jobs are read per scrape.
const SAMPLE: i64 = 10_000;
const QUANTILES: [(f64, &str); 3] = [(0.5, "0.5"), (0.9, "0.9"), (0.99, "0.99")];

/// Sets `airscope_jobs{status}`, `airscope_queue_oldest_seconds` and
/// `airscope_job_latency_seconds{stage, quantile}` (stage `queue`: submitted to started,
/// `total`: submitted to ended).
pub async fn publish(store: &dyn Store, now_ms: i64) -> StoreResult<()> {
    let counts = store.count_by_status().await?;
    for status in crate::jobs::Status::ALL {
        let n = counts
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n);
        metrics::gauge!("airscope_jobs", "status" => status.as_str()).set(n as f64);
    }
    let oldest = store.oldest_queued().await?;
    metrics::gauge!("airscope_queue_oldest_seconds")
        .set(oldest.map_or(0.0, |t| seconds(now_ms - t)));

    let timings = store.recent_timings(now_ms - WINDOW_MS, SAMPLE).await?;
    let queue: Vec<i64> = timings
        .iter()
        .filter_map(|t| Some(t.started_ms? - t.created_ms))
        .collect();
    let total: Vec<i64> = timings
        .iter()
        .map(|t| t.completed_ms - t.created_ms)
        .collect();
    for (stage, mut values) in [("queue", queue), ("total", total)] {
        values.sort_unstable();
        for (q, label) in QUANTILES {
            // NaN, as Prometheus summaries report, when no job ended in the window.
            let v = quantile(&values, q).map_or(f64::NAN, seconds);
            metrics::gauge!("airscope_job_latency_seconds", "stage" => stage, "quantile" => label)
                .set(v);
        }
    }
    Ok(())
}

fn seconds(ms: i64) -> f64 {
    ms.max(0) as f64 / 1000.0
}

/// Nearest-rank quantile of sorted values.
fn quantile(sorted: &[i64], q: f64) -> Option<i64> {
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), Some(50));
        assert_eq!(quantile(&v, 0.99), Some(99));
        assert_eq!(quantile(&[7], 0.9), Some(7));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
