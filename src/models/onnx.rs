//! The two things airscope reads from an ONNX file itself rather than through ONNX Runtime:
//! its IR version (lowered once at fetch) and scalar initialisers (quantisation parameters
//! that the runtime does not expose). Only the protobuf fields involved are declared; prost
//! skips the rest.

use std::path::Path;

#[derive(Clone, PartialEq, prost::Message)]
struct ModelProto {
    #[prost(int64, tag = "1")]
    ir_version: i64,
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<TensorProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    data_type: i32,
    #[prost(float, repeated, tag = "4")]
    float_data: Vec<f32>,
    #[prost(int32, repeated, tag = "5")]
    int32_data: Vec<i32>,
    #[prost(string, tag = "8")]
    name: String,
    #[prost(bytes = "vec", tag = "9")]
    raw_data: Vec<u8>,
}

// ONNX TensorProto.DataType values.
const FLOAT: i32 = 1;
const UINT8: i32 = 2;
const INT8: i32 = 3;

/// Rewrites `ir_version` 11 to 10 in place. The field is the file's first (tag byte 0x08)
/// and both values are one varint byte, so nothing else moves; any other layout is refused
/// rather than re-encoded, which would drop fields this module does not declare.
pub fn lower_ir_to_10(mut bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    match bytes.get(..2) {
        Some([0x08, 10]) => Ok(bytes),
        Some([0x08, 11]) => {
            bytes[1] = 10;
            Ok(bytes)
        }
        _ => Err("the ONNX file does not start with IR version 10 or 11".into()),
    }
}

/// Reads the scalar initialisers `names` (float, or 8-bit integer as used for zero points),
/// decoding the file once.
pub fn scalars<const N: usize>(path: &Path, names: [&str; N]) -> Result<[f32; N], String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let model: ModelProto = prost::Message::decode(bytes.as_slice())
        .map_err(|e| format!("{}: not an ONNX model: {e}", path.display()))?;
    let mut values = [0.0; N];
    for (value, name) in values.iter_mut().zip(names) {
        *value = scalar_in(&model, name).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(values)
}

fn scalar_in(model: &ModelProto, name: &str) -> Result<f32, String> {
    let tensor = model
        .graph
        .iter()
        .flat_map(|g| &g.initializer)
        .find(|t| t.name == name)
        .ok_or_else(|| format!("no initialiser `{name}`"))?;
    if tensor.dims.iter().product::<i64>() != 1 {
        return Err(format!("initialiser `{name}` is not a scalar"));
    }
    let value = match (tensor.data_type, tensor.raw_data.as_slice()) {
        (FLOAT, [a, b, c, d]) => Some(f32::from_le_bytes([*a, *b, *c, *d])),
        (FLOAT, []) => tensor.float_data.first().copied(),
        (UINT8, [v]) => Some(f32::from(*v)),
        (INT8, [v]) => Some(f32::from(*v as i8)),
        (UINT8 | INT8, []) => tensor.int32_data.first().map(|v| *v as f32),
        _ => None,
    };
    value.ok_or_else(|| format!("initialiser `{name}` has an unsupported encoding"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_only_the_version_byte() {
        let file = vec![0x08, 11, 0x12, 3, b'a', b'b', b'c'];
        let out = lower_ir_to_10(file.clone()).unwrap();
        assert_eq!(out[1], 10);
        assert_eq!(out[2..], file[2..]);
        assert!(lower_ir_to_10(vec![0x12, 0]).is_err());
    }

    #[test]
    fn reads_scalars_in_raw_and_typed_fields() {
        let model = ModelProto {
            ir_version: 10,
            graph: Some(GraphProto {
                initializer: vec![
                    TensorProto {
                        name: "s".into(),
                        data_type: FLOAT,
                        raw_data: 0.25f32.to_le_bytes().to_vec(),
                        ..Default::default()
                    },
                    TensorProto {
                        name: "z".into(),
                        data_type: UINT8,
                        int32_data: vec![144],
                        ..Default::default()
                    },
                ],
            }),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.onnx");
        std::fs::write(&path, prost::Message::encode_to_vec(&model)).unwrap();
        assert_eq!(scalars(&path, ["s", "z"]).unwrap(), [0.25, 144.0]);
        assert!(scalars(&path, ["s", "missing"])
            .unwrap_err()
            .contains("no initialiser"));
    }
}
