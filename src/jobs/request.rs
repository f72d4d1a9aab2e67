//! `POST /jobs` bodies: parsed strictly (unknown fields are errors) and validated into a
//! [`ValidJobRequest`] that the store can take as it is.

use serde::Deserialize;

use super::model::{Destination, Notification, Source};
use super::services::{parse_services, ServiceConfigs, ServicesError};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct JobRequestBody {
    /// 1..256 characters, not all white space.
    pub name: Option<String>,
    /// 1..10, 10 the most urgent (default 5).
    pub priority: Option<i64>,
    /// Service name -> `""` or `{"config": {...}}`.
    #[schema(value_type = Object)]
    pub services: Option<serde_json::Value>,
    pub batch: Option<String>,
    pub source: Option<SourceBody>,
    pub destination: Option<DestinationBody>,
    pub notification: Option<NotificationBody>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct SourceBody {
    pub bucket: Option<String>,
    pub object_key: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub provider: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct DestinationBody {
    pub bucket: Option<String>,
    pub region: Option<String>,
    /// Key prefix of the output (default `jobs`).
    pub prefix: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct NotificationBody {
    pub url: Option<String>,
    pub secret: Option<String>,
}

/// A submission that passed every rule.
#[derive(Debug, Clone)]
pub struct ValidJobRequest {
    pub name: String,
    pub priority: i64,
    pub services: serde_json::Value,
    pub configs: ServiceConfigs,
    pub batch: Option<String>,
    pub source: Source,
    pub source_keys: Option<(String, String)>,
    pub destination: Destination,
    pub notification: Option<Notification>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RequestError {
    Invalid(String),
    Unsupported(String),
}

fn invalid<T>(msg: impl Into<String>) -> Result<T, RequestError> {
    Err(RequestError::Invalid(msg.into()))
}

/// Parse and validate a raw body.
pub fn parse_job_request(body: &[u8]) -> Result<ValidJobRequest, RequestError> {
    validate(parse_object(body)?)
}

/// A request body that must be a JSON object of known fields; errors name the field.
pub fn parse_object<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, RequestError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return invalid("request body must be a JSON object");
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = strip_position(&inner.to_string());
        RequestError::Invalid(if path == "." || path.is_empty() {
            format!("request body: {msg}")
        } else {
            format!("{path}: {msg}")
        })
    })
}

/// serde_json appends "at line L column C"; the field path says more.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// `Name`: 1..256 characters, not all white space.
pub fn validate_name(name: Option<String>) -> Result<String, RequestError> {
    match name {
        None => invalid("Name is required"),
        Some(n) if n.trim().is_empty() => invalid("Name must not be empty or only white space"),
        Some(n) if n.chars().count() > 256 => invalid("Name must be at most 256 characters"),
        Some(n) => Ok(n),
    }
}

fn validate(raw: JobRequestBody) -> Result<ValidJobRequest, RequestError> {
    let name = validate_name(raw.name)?;
    let priority = raw.priority.unwrap_or(5);
    if !(1..=10).contains(&priority) {
        return invalid("Priority must be an integer from 1 to 10");
    }
    let services = match raw.services {
        None => return invalid("Services is required"),
        Some(s) => s,
    };
    let configs = parse_services(&services).map_err(|e| match e {
        ServicesError::Unsupported(m) => RequestError::Unsupported(m),
        ServicesError::Invalid(m) => RequestError::Invalid(m),
    })?;
    if let Some(b) = &raw.batch {
        if b.chars().count() > 256 {
            return invalid("Batch must be at most 256 characters");
        }
    }
    let (source, source_keys) = validate_source(raw.source)?;
    let destination = validate_destination(raw.destination)?;
    let notification = raw.notification.map(validate_notification).transpose()?;
    Ok(ValidJobRequest {
        name,
        priority,
        services,
        configs,
        batch: raw.batch,
        source,
        source_keys,
        destination,
        notification,
    })
}

/// `Source`: where an object is, and the keys to read it when they are not the caller's.
pub fn validate_source(
    body: Option<SourceBody>,
) -> Result<(Source, Option<(String, String)>), RequestError> {
    let Some(s) = body else {
        return invalid("Source is required");
    };
    let bucket = required("Source.Bucket", s.bucket)?;
    check_bucket("Source.Bucket", &bucket)?;
    let object_key = required("Source.ObjectKey", s.object_key)?;
    if object_key.len() > 1024 {
        return invalid("Source.ObjectKey must be at most 1024 bytes");
    }
    let endpoint = s
        .endpoint
        .map(|e| normalise_endpoint("Source.Endpoint", &e))
        .transpose()?;
    let keys = match (s.access_key, s.secret_key) {
        (Some(a), Some(k)) if !a.is_empty() && !k.is_empty() => Some((a, k)),
        (None, None) => None,
        _ => return invalid("Source.AccessKey and Source.SecretKey must be given together"),
    };
    if endpoint.is_some() && keys.is_none() {
        return invalid("Source.Endpoint needs Source.AccessKey and Source.SecretKey");
    }
    Ok((
        Source {
            bucket,
            object_key,
            endpoint,
            region: s.region.filter(|r| !r.is_empty()),
            provider: s.provider.filter(|p| !p.is_empty()),
        },
        keys,
    ))
}

fn validate_destination(body: Option<DestinationBody>) -> Result<Destination, RequestError> {
    let Some(d) = body else {
        return invalid("Destination is required");
    };
    let bucket = required("Destination.Bucket", d.bucket)?;
    check_bucket("Destination.Bucket", &bucket)?;
    let region = required("Destination.Region", d.region)?;
    let prefix = d.prefix.unwrap_or_else(|| "jobs".into());
    let bad_segment = prefix
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..");
    if prefix.len() > 512 || bad_segment {
        return invalid(
            "Destination.Prefix must be 1..512 characters of non-empty path segments, without `.` or `..` and without leading or trailing `/`",
        );
    }
    Ok(Destination {
        bucket,
        region,
        prefix,
    })
}

fn validate_notification(n: NotificationBody) -> Result<Notification, RequestError> {
    let url = required("Notification.Url", n.url)?;
    normalise_endpoint("Notification.Url", &url)?;
    Ok(Notification {
        url,
        secret: n.secret,
    })
}

fn required(field: &str, v: Option<String>) -> Result<String, RequestError> {
    match v {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => invalid(format!("{field} is required")),
    }
}

/// S3 bucket naming: 3..63 of lower-case letters, digits, `.` and `-`, starting and ending
/// with a letter or digit.
fn check_bucket(field: &str, b: &str) -> Result<(), RequestError> {
    let ok_chars = b
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if (3..=63).contains(&b.len())
        && ok_chars
        && ends_ok(b.chars().next())
        && ends_ok(b.chars().last())
    {
        Ok(())
    } else {
        invalid(format!(
            "{field} must be a valid bucket name (3-63 lower-case letters, digits, `.` or `-`)"
        ))
    }
}

/// An `http(s)://host[:port][/]` URL; a bare host gets `https://`.
fn normalise_endpoint(field: &str, e: &str) -> Result<String, RequestError> {
    let with_scheme = if e.contains("://") {
        e.to_string()
    } else {
        format!("https://{e}")
    };
    match url::Url::parse(&with_scheme) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            if !u.username().is_empty() || u.password().is_some() {
                return invalid(format!("{field} must not carry credentials"));
            }
            Ok(with_scheme.trim_end_matches('/').to_string())
        }
        _ => invalid(format!("{field} must be an http or https URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_body() -> serde_json::Value {
        serde_json::json!({
            "Name": "n", "Services": {"pdf": ""},
            "Source": {"Bucket": "src", "ObjectKey": "a/b.pdf"},
            "Destination": {"Bucket": "dst", "Region": "us-east-1"}
        })
    }

    fn err(v: serde_json::Value) -> String {
        match parse_job_request(v.to_string().as_bytes()).unwrap_err() {
            RequestError::Invalid(m) | RequestError::Unsupported(m) => m,
        }
    }

    #[test]
    fn valid_body_gets_defaults() {
        let r = parse_job_request(ok_body().to_string().as_bytes()).unwrap();
        assert_eq!(r.priority, 5);
        assert_eq!(r.destination.prefix, "jobs");
    }

    #[test]
    fn unknown_fields_are_named() {
        let mut b = ok_body();
        b["Sourse"] = serde_json::json!({});
        assert!(err(b).contains("Sourse"));
        let mut b = ok_body();
        b["Source"]["Bukket"] = serde_json::json!("x");
        let m = err(b);
        assert!(m.starts_with("Source") && m.contains("Bukket"), "{m}");
    }

    #[test]
    fn rules_name_the_field() {
        let mut b = ok_body();
        b["Name"] = serde_json::json!("   ");
        assert!(err(b).contains("Name"));
        let mut b = ok_body();
        b["Priority"] = serde_json::json!(11);
        assert!(err(b).contains("Priority"));
        let mut b = ok_body();
        b["Priority"] = serde_json::json!("high");
        assert!(err(b).contains("Priority"));
        let mut b = ok_body();
        b["Source"]["Bucket"] = serde_json::json!("Bad_Bucket");
        assert!(err(b).contains("Source.Bucket"));
        let mut b = ok_body();
        b["Source"]["AccessKey"] = serde_json::json!("AK");
        assert!(err(b).contains("SecretKey"));
        let mut b = ok_body();
        b["Destination"]["Prefix"] = serde_json::json!("../x");
        assert!(err(b).contains("Prefix"));
        let mut b = ok_body();
        b["Source"]["Endpoint"] = serde_json::json!("ftp://x");
        b["Source"]["AccessKey"] = serde_json::json!("a");
        b["Source"]["SecretKey"] = serde_json::json!("b");
        assert!(err(b).contains("Endpoint"));
        let m = err(serde_json::json!([1]));
        assert!(m.contains("request body"), "{m}");
    }
}
