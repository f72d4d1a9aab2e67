//! Webhooks: every terminal status of a job with a `Notification` is POSTed to its URL, signed
//! with its secret, at least once, with retries and backoff. The store is the outbox, so a
//! crash between the status change and the call loses nothing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::WorkerContext;
use crate::storage::guard;
use crate::store::{DueWebhook, WebhookOutcome};

/// Deliveries tried before giving up (backoff 2, 4, ... 256 s: about 8.5 minutes in all).
pub const MAX_ATTEMPTS: i64 = 8;

/// Resolves names to public addresses only (see [`guard`]).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let ips = object_store::client::DnsResolver::resolve(&guard::PublicOnly, name.as_str())
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e })?;
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

fn client(allow_private: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(crate::ENGINE_VERSION);
    if !allow_private {
        b = b.dns_resolver(Arc::new(PublicOnly));
    }
    b.build().expect("static HTTP client configuration")
}

/// Send due webhooks until shutdown.
pub async fn deliver_loop(ctx: Arc<WorkerContext>) {
    let allow_private = ctx.config.storage.allow_private_endpoints;
    let http = client(allow_private);
    let poll = Duration::from_millis(ctx.config.worker.poll_interval_ms);
    loop {
        let due = ctx
            .store
            .due_webhooks(crate::time::now_ms(), 60_000, 16)
            .await;
        match due {
            Ok(list) => {
                for hook in list {
                    let outcome = deliver(&ctx, &http, allow_private, &hook).await;
                    if let Err(e) = ctx.store.webhook_outcome(&hook.job.id, outcome).await {
                        tracing::warn!(job = %hook.job.id, error = %e, "cannot record webhook outcome");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read due webhooks"),
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {},
            () = ctx.shutdown.cancelled() => return,
        }
    }
}

async fn deliver(
    ctx: &WorkerContext,
    http: &reqwest::Client,
    allow_private: bool,
    hook: &DueWebhook,
) -> WebhookOutcome {
    let job = &hook.job;
    let Some(url) = job.notification_url.as_deref() else {
        return WebhookOutcome::GaveUp;
    };
    let parsed = url::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let literal_private = parsed
        .as_ref()
        .and_then(|u| match u.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        })
        .is_some_and(|ip| !guard::is_public(ip));
    if literal_private && !allow_private {
        tracing::warn!(job = %job.id, %host, "webhook refused: private address");
        return WebhookOutcome::GaveUp;
    }
    let body = json!({
        "Id": job.id,
        "Name": job.name,
        "Status": job.status,
        "ErrorCount": job.error_count,
        "Error": job.error,
        "Created": crate::time::rfc3339_ms(job.created_ms),
        "Completed": job.completed_ms.map(crate::time::rfc3339_ms),
        "DestinationPath": job.output_path,
    })
    .to_string();
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-airscope-event", format!("job.{}", job.status.as_str()))
        .header("x-airscope-job-id", &job.id);
    if let Some(sealed) = &hook.secret {
        match ctx.master.open(sealed) {
            Ok(secret) => req = req.header("x-airscope-signature", signature(&secret, &body)),
            Err(_) => {
                tracing::warn!(job = %job.id, "webhook secret cannot be opened; giving up");
                return WebhookOutcome::GaveUp;
            }
        }
    }
    let result = req.body(body).send().await;
    match result {
        Ok(resp) if resp.status().is_success() => {
            tracing::info!(job = %job.id, %host, "webhook delivered");
            WebhookOutcome::Delivered
        }
        other => {
            let why = match other {
                Ok(resp) => format!("HTTP {}", resp.status().as_u16()),
                Err(e) if e.is_timeout() => "timeout".to_string(),
                Err(_) => "connection failed".to_string(),
            };
            if hook.attempts >= MAX_ATTEMPTS {
                tracing::warn!(job = %job.id, %host, %why, "webhook given up");
                WebhookOutcome::GaveUp
            } else {
                let delay_ms = 1000i64 << hook.attempts.clamp(1, 10);
                tracing::info!(job = %job.id, %host, %why, attempt = hook.attempts, "webhook failed, retrying");
                WebhookOutcome::RetryAt(crate::time::now_ms() + delay_ms)
            }
        }
    }
}

/// `sha256=<hex HMAC-SHA256 of the body>`.
pub fn signature(secret: &[u8], body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_matches_a_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            super::signature(b"Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
