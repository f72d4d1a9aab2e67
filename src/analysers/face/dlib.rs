//! dlib through the `dlib-face-recognition` crate (aligner and embedding network), plus the
//! HOG detector called directly: the crate's detector drops each detection's score and cannot
//! upsample, and both matter here (confidence, small faces in photos).

use std::os::raw::{c_int, c_long};
use std::path::Path;
use std::sync::Once;

use cpp::{cpp, cpp_class};
use dlib_face_recognition::{
    FaceEncoderNetwork, FaceEncoderTrait, ImageMatrix, LandmarkPredictor, LandmarkPredictorTrait,
    Rectangle,
};
use image::RgbImage;

use super::Embedding;
use crate::analysers::AnalyseError;
use crate::models;

cpp! {{
    #include <dlib/image_processing/frontal_face_detector.h>
    #include <dlib/image_transforms.h>
}}

cpp_class!(unsafe struct HogDetector as "dlib::frontal_face_detector");

/// The most faces one picture reports; a crowd beyond it keeps its strongest faces.
pub const MAX_FACES: usize = 1000;

/// A face found by the detector, in the pixels of the picture given.
#[derive(Debug, Clone, Copy)]
pub struct Found {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
    /// The detector's SVM margin: 0 is dlib's own threshold.
    pub score: f32,
}

impl Found {
    pub fn side(&self) -> f32 {
        (self.right - self.left).min(self.bottom - self.top)
    }
}

/// A picture in dlib's layout, converted once for detection, alignment and embedding.
pub struct Picture(ImageMatrix);

impl Picture {
    pub fn new(image: &RgbImage) -> Picture {
        let (w, h) = (image.width() as usize, image.height() as usize);
        assert_eq!(image.as_raw().len(), w * h * 3);
        // SAFETY: the buffer holds exactly width * height RGB pixels (checked above).
        Picture(unsafe { ImageMatrix::new(w, h, image.as_raw().as_ptr()) })
    }
}

/// The three dlib stages; one per analyser thread (dlib's detector is not thread safe).
pub struct Dlib {
    detector: HogDetector,
    landmarks: LandmarkPredictor,
    encoder: FaceEncoderNetwork,
}

extern "C" {
    // OpenBLAS, which runs dlib's convolutions; Debian's serial build ignores it, a threaded
    // build would otherwise start a thread per core.
    fn openblas_set_num_threads(threads: c_int);
}

impl Dlib {
    pub fn load(models_dir: &Path) -> Result<Dlib, AnalyseError> {
        // The compute pool gives each call one core.
        static ONE_THREAD: Once = Once::new();
        // SAFETY: a plain setter of OpenBLAS, called once before any BLAS work of this module.
        ONE_THREAD.call_once(|| unsafe { openblas_set_num_threads(1) });
        let path = |name| {
            models::path_of(models_dir, name).map_err(|e| AnalyseError::Failed(e.to_string()))
        };
        let landmarks =
            LandmarkPredictor::open(path("dlib-shape5")?).map_err(AnalyseError::Failed)?;
        let encoder =
            FaceEncoderNetwork::open(path("dlib-resnet")?).map_err(AnalyseError::Failed)?;
        // SAFETY: builds the detector from the model compiled into libdlib.
        let detector = unsafe {
            cpp!([] -> HogDetector as "dlib::frontal_face_detector" {
                return dlib::get_frontal_face_detector();
            })
        };
        Ok(Dlib {
            detector,
            landmarks,
            encoder,
        })
    }

    /// Faces scoring above `threshold` (dlib's margin), found at twice the picture's size
    /// when `upsample` (faces down to 40 pixels instead of 80), strongest first. The search
    /// runs on the grey picture, as dlib's own examples do: its HOG features are then computed
    /// on one channel, not three.
    pub fn detect(
        &mut self,
        picture: &Picture,
        upsample: bool,
        threshold: f64,
    ) -> Result<Vec<Found>, AnalyseError> {
        let mut out = vec![0f64; MAX_FACES * 5];
        let detector = &mut self.detector;
        let image = &picture.0;
        let buffer = out.as_mut_ptr();
        let cap = MAX_FACES;
        // SAFETY: the C++ side writes at most `cap` detections of five doubles into `buffer`.
        let n = unsafe {
            cpp!([detector as "dlib::frontal_face_detector*",
                  image as "const dlib::matrix<dlib::rgb_pixel>*",
                  upsample as "bool", threshold as "double",
                  buffer as "double*", cap as "size_t"] -> usize as "size_t" {
                // An exception must not unwind into Rust (a huge picture can run out of memory).
                try {
                    std::vector<dlib::rect_detection> dets;
                    double scale = 1.0;
                    dlib::matrix<unsigned char> grey;
                    dlib::assign_image(grey, *image);
                    if (upsample) {
                        dlib::pyramid_up(grey);
                        scale = 0.5;
                    }
                    (*detector)(grey, dets, threshold);
                    std::sort(dets.begin(), dets.end(), [](const dlib::rect_detection& a,
                        const dlib::rect_detection& b) { return a.detection_confidence > b.detection_confidence; });
                    size_t n = std::min(dets.size(), cap);
                    for (size_t i = 0; i < n; i++) {
                        buffer[i * 5] = dets[i].rect.left() * scale;
                        buffer[i * 5 + 1] = dets[i].rect.top() * scale;
                        buffer[i * 5 + 2] = (dets[i].rect.right() + 1) * scale;
                        buffer[i * 5 + 3] = (dets[i].rect.bottom() + 1) * scale;
                        buffer[i * 5 + 4] = dets[i].detection_confidence;
                    }
                    return n;
                } catch (...) {
                    return SIZE_MAX;
                }
            })
        };
        if n == usize::MAX {
            return Err(AnalyseError::Failed(
                "face detection failed (out of memory?)".into(),
            ));
        }
        Ok(out[..n * 5]
            .chunks_exact(5)
            .map(|d| Found {
                left: d[0] as f32,
                top: d[1] as f32,
                right: d[2] as f32,
                bottom: d[3] as f32,
                score: d[4] as f32,
            })
            .collect())
    }

    /// The 128-d embedding of each face, aligned on its five landmarks.
    pub fn embed(&mut self, picture: &Picture, faces: &[Found]) -> Vec<Embedding> {
        if faces.is_empty() {
            return Vec::new();
        }
        let landmarks: Vec<_> = faces
            .iter()
            .map(|f| {
                let rect = Rectangle {
                    left: f.left.round() as c_long,
                    top: f.top.round() as c_long,
                    right: f.right.round() as c_long - 1,
                    bottom: f.bottom.round() as c_long - 1,
                };
                self.landmarks.face_landmarks(&picture.0, &rect)
            })
            .collect();
        self.encoder
            .get_face_encodings(&picture.0, &landmarks, 0)
            .iter()
            .map(|e| Embedding::from_f64(e.as_ref()))
            .collect()
    }
}
