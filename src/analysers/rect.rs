//! Axis-aligned boxes, shared by the analysers that locate things in frames (text, faces).

use serde_json::{json, Value};

use super::round3;

/// An axis-aligned box, in pixels or normalised units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl Rect {
    pub fn scaled(&self, sx: f32, sy: f32) -> Rect {
        Rect {
            x0: self.x0 * sx,
            y0: self.y0 * sy,
            x1: self.x1 * sx,
            y1: self.y1 * sy,
        }
    }

    pub fn area(&self) -> f32 {
        (self.x1 - self.x0).max(0.0) * (self.y1 - self.y0).max(0.0)
    }

    fn intersection(&self, other: &Rect) -> f32 {
        Rect {
            x0: self.x0.max(other.x0),
            y0: self.y0.max(other.y0),
            x1: self.x1.min(other.x1),
            y1: self.y1.min(other.y1),
        }
        .area()
    }

    /// Intersection over the smaller box: 1 when one box holds the other.
    pub fn cover(&self, other: &Rect) -> f32 {
        let smaller = self.area().min(other.area());
        if smaller > 0.0 {
            self.intersection(other) / smaller
        } else {
            0.0
        }
    }

    /// Intersection over union.
    pub fn iou(&self, other: &Rect) -> f32 {
        let inter = self.intersection(other);
        let union = self.area() + other.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

/// A box as the metadata file writes it, read back.
pub fn from_bbox_json(v: &Value) -> Option<Rect> {
    let num = |k: &str| v[k].as_f64().map(|n| n as f32);
    let (x, y) = (num("x")?, num("y")?);
    Some(Rect {
        x0: x,
        y0: y,
        x1: x + num("width")?,
        y1: y + num("height")?,
    })
}

/// A normalised box as the metadata file writes it (`x`, `y`, `width`, `height` in 0..1).
/// Boxes reaching past the frame (a face cut by its edge) are cut to the frame first.
pub fn bbox_json(r: &Rect) -> Value {
    let c = |v: f32| f64::from(v.clamp(0.0, 1.0));
    let (x0, y0, x1, y1) = (c(r.x0), c(r.y0), c(r.x1), c(r.y1));
    json!({
        "x": round3(x0),
        "y": round3(y0),
        "width": round3((x1 - x0).max(0.0)),
        "height": round3((y1 - y0).max(0.0)),
    })
}
