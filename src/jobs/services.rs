//! The service catalog: names, config keys with their defaults and ranges, and which services
//! this build implements.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Every service name of the contract, in the order the output lists them.
pub const KNOWN: [&str; 7] = ["s2t", "ocr", "nld", "audiotag", "face", "logo", "pdf"];

/// Whisper's languages (ISO 639-1), accepted by `s2t.language`.
const WHISPER_LANGUAGES: &[&str] = &[
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv", "it",
    "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no", "th", "ur",
    "hr", "bg", "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn",
    "et", "mk", "br", "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si",
    "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu", "am", "yi", "lo", "uz", "fo",
    "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln",
    "ha", "ba", "jw", "su", "yue",
];

/// `mix`, or a 0-based channel index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AudioChannel {
    Index(u32),
    Named(MixOnly),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MixOnly {
    Mix,
}

impl Default for AudioChannel {
    fn default() -> Self {
        AudioChannel::Named(MixOnly::Mix)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PdfOcr {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S2tConfig {
    pub language: String,
    pub audio_channel: AudioChannel,
    pub captions: bool,
}

impl Default for S2tConfig {
    fn default() -> Self {
        S2tConfig {
            language: "auto".into(),
            audio_channel: AudioChannel::default(),
            captions: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OcrConfig {
    pub min_confidence: f64,
    pub frame_interval: f64,
}

impl Default for OcrConfig {
    fn default() -> Self {
        OcrConfig {
            min_confidence: 0.5,
            frame_interval: 1.0,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NldConfig {}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AudiotagConfig {
    pub min_confidence: f64,
    pub audio_channel: AudioChannel,
}

impl Default for AudiotagConfig {
    fn default() -> Self {
        AudiotagConfig {
            min_confidence: 0.3,
            audio_channel: AudioChannel::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaceConfig {
    pub min_confidence: f64,
    pub rec_confidence_threshold: f64,
    pub frame_interval: f64,
}

impl Default for FaceConfig {
    fn default() -> Self {
        FaceConfig {
            min_confidence: 0.5,
            rec_confidence_threshold: 0.6,
            frame_interval: 1.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogoConfig {
    pub rec_confidence_threshold: f64,
    pub frame_interval: f64,
    /// [ext] Also find logos whose name is written on screen (runs the OCR analyser, whose
    /// section appears only when `ocr` is requested too).
    pub wordmark: bool,
}

impl Default for LogoConfig {
    fn default() -> Self {
        LogoConfig {
            rec_confidence_threshold: 0.5,
            frame_interval: 1.0,
            wordmark: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PdfConfig {
    pub ocr: PdfOcr,
    pub max_pages: u32,
}

impl Default for PdfConfig {
    fn default() -> Self {
        PdfConfig {
            ocr: PdfOcr::Auto,
            max_pages: 1000,
        }
    }
}

/// The validated configuration of every requested service.
#[derive(Debug, Clone, Default)]
pub struct ServiceConfigs {
    pub s2t: Option<S2tConfig>,
    pub ocr: Option<OcrConfig>,
    pub nld: Option<NldConfig>,
    pub audiotag: Option<AudiotagConfig>,
    pub face: Option<FaceConfig>,
    pub logo: Option<LogoConfig>,
    pub pdf: Option<PdfConfig>,
}

impl ServiceConfigs {
    pub fn requested(&self) -> Vec<&'static str> {
        let present = [
            self.s2t.is_some(),
            self.ocr.is_some(),
            self.nld.is_some(),
            self.audiotag.is_some(),
            self.face.is_some(),
            self.logo.is_some(),
            self.pdf.is_some(),
        ];
        KNOWN
            .iter()
            .zip(present)
            .filter_map(|(n, p)| p.then_some(*n))
            .collect()
    }
}

/// Why a `Services` object was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ServicesError {
    /// Maps to `UNSUPPORTED_SERVICE`.
    Unsupported(String),
    /// Maps to `VALIDATION_ERROR`.
    Invalid(String),
}

/// Validate `Services` (an object of service name -> `""` | `{}` | `{"config": {...}}`).
pub fn parse_services(value: &serde_json::Value) -> Result<ServiceConfigs, ServicesError> {
    let obj = value.as_object().ok_or_else(|| {
        ServicesError::Invalid("Services must be an object of service names".into())
    })?;
    if obj.is_empty() {
        return Err(ServicesError::Invalid(
            "Services must name at least one service".into(),
        ));
    }
    let mut out = ServiceConfigs::default();
    for (name, v) in obj {
        if !KNOWN.contains(&name.as_str()) {
            return Err(ServicesError::Unsupported(format!(
                "unknown service `{name}`; available services: {}",
                KNOWN.join(", ")
            )));
        }
        let config = config_object(name, v)?;
        match name.as_str() {
            "s2t" => out.s2t = Some(parse_config(name, config, check_s2t)?),
            "ocr" => out.ocr = Some(parse_config(name, config, check_ocr)?),
            "nld" => out.nld = Some(parse_config(name, config, |_: &NldConfig| Ok(()))?),
            "audiotag" => out.audiotag = Some(parse_config(name, config, check_audiotag)?),
            "face" => out.face = Some(parse_config(name, config, check_face)?),
            "logo" => out.logo = Some(parse_config(name, config, check_logo)?),
            _ => out.pdf = Some(parse_config(name, config, check_pdf)?),
        }
    }
    Ok(out)
}

fn config_object(name: &str, v: &serde_json::Value) -> Result<serde_json::Value, ServicesError> {
    let empty = || serde_json::Value::Object(Default::default());
    match v {
        serde_json::Value::String(s) if s.is_empty() => Ok(empty()),
        serde_json::Value::Object(o) => {
            if let Some(k) = o.keys().find(|k| *k != "config") {
                return Err(ServicesError::Invalid(format!(
                    "Services.{name}: unknown field `{k}` (expected `config`)"
                )));
            }
            match o.get("config") {
                None | Some(serde_json::Value::Null) => Ok(empty()),
                Some(c @ serde_json::Value::Object(_)) => Ok(c.clone()),
                Some(_) => Err(ServicesError::Invalid(format!(
                    "Services.{name}.config must be an object"
                ))),
            }
        }
        _ => Err(ServicesError::Invalid(format!(
            "Services.{name} must be \"\" or {{\"config\": {{...}}}}"
        ))),
    }
}

fn parse_config<T: DeserializeOwned>(
    name: &str,
    config: serde_json::Value,
    check: impl Fn(&T) -> Result<(), String>,
) -> Result<T, ServicesError> {
    let parsed: T = serde_path_to_error::deserialize(config).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner();
        ServicesError::Invalid(if path == "." || path.is_empty() {
            format!("Services.{name}.config: {msg}")
        } else {
            format!("Services.{name}.config.{path}: {msg}")
        })
    })?;
    check(&parsed).map_err(|e| ServicesError::Invalid(format!("Services.{name}.config.{e}")))?;
    Ok(parsed)
}

fn unit_interval(field: &str, v: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(format!("{field} must be between 0 and 1"))
    }
}

fn frame_interval(v: f64) -> Result<(), String> {
    if (0.04..=3600.0).contains(&v) {
        Ok(())
    } else {
        Err("frame_interval must be between 0.04 and 3600 seconds".into())
    }
}

fn check_s2t(c: &S2tConfig) -> Result<(), String> {
    if c.language == "auto" || WHISPER_LANGUAGES.contains(&c.language.as_str()) {
        Ok(())
    } else {
        Err(format!(
            "language `{}` is not supported (use `auto` or an ISO 639-1 code Whisper knows)",
            c.language
        ))
    }
}

fn check_ocr(c: &OcrConfig) -> Result<(), String> {
    unit_interval("min_confidence", c.min_confidence)?;
    frame_interval(c.frame_interval)
}

fn check_audiotag(c: &AudiotagConfig) -> Result<(), String> {
    unit_interval("min_confidence", c.min_confidence)
}

fn check_face(c: &FaceConfig) -> Result<(), String> {
    unit_interval("min_confidence", c.min_confidence)?;
    unit_interval("rec_confidence_threshold", c.rec_confidence_threshold)?;
    frame_interval(c.frame_interval)
}

fn check_logo(c: &LogoConfig) -> Result<(), String> {
    unit_interval("rec_confidence_threshold", c.rec_confidence_threshold)?;
    frame_interval(c.frame_interval)
}

fn check_pdf(c: &PdfConfig) -> Result<(), String> {
    if (1..=100_000).contains(&c.max_pages) {
        Ok(())
    } else {
        Err("max_pages must be between 1 and 100000".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_empty_and_config_forms() {
        let s = parse_services(&json!({"pdf": ""})).unwrap();
        assert_eq!(s.pdf.unwrap().max_pages, 1000);
        let s =
            parse_services(&json!({"pdf": {"config": {"max_pages": 3, "ocr": "never"}}})).unwrap();
        let pdf = s.pdf.unwrap();
        assert_eq!((pdf.max_pages, pdf.ocr), (3, PdfOcr::Never));
    }

    #[test]
    fn refuses_unknown_keys_and_ranges() {
        let e = parse_services(&json!({"pdf": {"config": {"max_page": 3}}})).unwrap_err();
        assert!(matches!(e, ServicesError::Invalid(m) if m.contains("max_page")));
        let e = parse_services(&json!({"pdf": {"config": {"max_pages": 0}}})).unwrap_err();
        assert!(matches!(e, ServicesError::Invalid(m) if m.contains("max_pages")));
        let e = parse_services(&json!({"pdf": {"conf": {}}})).unwrap_err();
        assert!(matches!(e, ServicesError::Invalid(m) if m.contains("conf")));
        let e = parse_services(&json!({"pdf": 3})).unwrap_err();
        assert!(matches!(e, ServicesError::Invalid(_)));
    }

    #[test]
    fn unknown_services_name_the_available_ones() {
        let e = parse_services(&json!({"foo": ""})).unwrap_err();
        assert!(
            matches!(e, ServicesError::Unsupported(m) if m.contains("foo") && m.contains("nld"))
        );
        let e = parse_services(&json!({"nld": {"config": {"style": "poetic"}}})).unwrap_err();
        assert!(matches!(e, ServicesError::Invalid(m) if m.contains("style")));
        assert!(parse_services(&json!({"nld": {}})).unwrap().nld.is_some());
    }

    #[test]
    fn checks_every_services_config_rules() {
        assert!(check_s2t(&S2tConfig {
            language: "xx".into(),
            ..Default::default()
        })
        .is_err());
        assert!(check_s2t(&S2tConfig {
            language: "de".into(),
            ..Default::default()
        })
        .is_ok());
        let ch: AudioChannel = serde_json::from_value(json!(1)).unwrap();
        assert_eq!(ch, AudioChannel::Index(1));
        assert!(serde_json::from_value::<AudioChannel>(json!("left")).is_err());
        assert!(check_ocr(&OcrConfig {
            min_confidence: 1.5,
            ..Default::default()
        })
        .is_err());
        assert!(check_face(&FaceConfig {
            frame_interval: 0.0,
            ..Default::default()
        })
        .is_err());
        assert!(check_logo(&LogoConfig {
            rec_confidence_threshold: 0.85,
            ..Default::default()
        })
        .is_ok());
        assert!(check_audiotag(&AudiotagConfig {
            min_confidence: -0.1,
            ..Default::default()
        })
        .is_err());
    }
}
