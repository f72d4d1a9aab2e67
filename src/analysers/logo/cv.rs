//! The OpenCV calls logo matching rests on (ORB features, a RANSAC homography), on Debian's
//! OpenCV 4.6 through the `cpp` crate. The `opencv` crate would generate bindings for whole
//! modules with clang at build time to reach these two calls.

use cpp::{cpp, cpp_class};
use image::GrayImage;

use crate::analysers::AnalyseError;

cpp! {{
    #include <opencv2/core.hpp>
    #include <opencv2/features2d.hpp>
    #include <opencv2/calib3d.hpp>
}}

cpp_class!(unsafe struct Orb as "cv::Ptr<cv::ORB>");

/// Bytes of one ORB descriptor.
pub const DESCRIPTOR: usize = 32;

/// A keypoint in the pixels of the picture it was found in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// The keypoints of one picture and their descriptors, `DESCRIPTOR` bytes each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    pub points: Vec<Point>,
    pub descriptors: Vec<u8>,
}

impl Features {
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

fn failed(what: &str) -> AnalyseError {
    AnalyseError::Failed(format!("{what} failed (out of memory?)"))
}

/// An ORB extractor: FAST corners over an 8-level pyramid (scale 1.2), so one picture's
/// features cover a 4x range of sizes, each with a rotated BRIEF descriptor.
pub struct Extractor(Orb);

impl Extractor {
    pub fn new(max_features: usize) -> Extractor {
        let n = max_features as i32;
        // SAFETY: constructs a standalone ORB object; a failure leaves it empty, which
        // `extract` reports.
        Extractor(unsafe {
            cpp!([n as "int"] -> Orb as "cv::Ptr<cv::ORB>" {
                try {
                    // Analysers run one call per core of the compute pool: OpenCV must not
                    // start threads of its own on the others.
                    cv::setNumThreads(1);
                    return cv::ORB::create(n, 1.2f, 8, 31, 0, 2, cv::ORB::HARRIS_SCORE, 31, 20);
                } catch (...) {
                    return cv::Ptr<cv::ORB>();
                }
            })
        })
    }

    /// Keypoints and descriptors of a grey picture, strongest first.
    pub fn extract(&mut self, grey: &GrayImage) -> Result<Features, AnalyseError> {
        let (w, h) = (grey.width() as i32, grey.height() as i32);
        let pixels = grey.as_raw().as_ptr();
        let orb = &mut self.0;
        let mut points: Vec<f32> = Vec::new();
        let mut descriptors: Vec<u8> = Vec::new();
        let (pts, descs) = (&mut points, &mut descriptors);
        // SAFETY: the image buffer holds w * h bytes; the C++ side fills the two vectors only
        // through the callbacks below.
        let ok = unsafe {
            cpp!([orb as "cv::Ptr<cv::ORB>*", pixels as "const uint8_t*", w as "int", h as "int",
                  pts as "void*", descs as "void*"] -> bool as "bool" {
                try {
                    if (!*orb) return false;
                    cv::Mat image(h, w, CV_8UC1, const_cast<uint8_t*>(pixels));
                    std::vector<cv::KeyPoint> kps;
                    cv::Mat d;
                    (*orb)->detectAndCompute(image, cv::noArray(), kps, d);
                    if (kps.empty()) return true;
                    if (d.rows != (int)kps.size() || d.cols != 32 || d.type() != CV_8UC1) return false;
                    for (size_t i = 0; i < kps.size(); i++) {
                        float x = kps[i].pt.x, y = kps[i].pt.y;
                        const uint8_t* row = d.ptr<uint8_t>((int)i);
                        rust!(Logo_push [pts: &mut Vec<f32> as "void*", descs: &mut Vec<u8> as "void*",
                                         x: f32 as "float", y: f32 as "float", row: *const u8 as "const uint8_t*"] {
                            pts.push(x);
                            pts.push(y);
                            descs.extend_from_slice(std::slice::from_raw_parts(row, DESCRIPTOR));
                        });
                    }
                    return true;
                } catch (...) {
                    return false;
                }
            })
        };
        if !ok {
            return Err(failed("feature extraction"));
        }
        Ok(Features {
            points: points
                .chunks_exact(2)
                .map(|p| Point { x: p[0], y: p[1] })
                .collect(),
            descriptors,
        })
    }
}

/// A homography fitted by RANSAC, and which of the pairs agree with it.
pub struct Fit {
    /// Row-major 3x3, mapping the first points onto the second.
    pub h: [f64; 9],
    pub inliers: Vec<bool>,
}

/// The homography that maps most of `from` onto `to` within `tolerance` pixels, if any.
pub fn homography(from: &[Point], to: &[Point], tolerance: f64) -> Option<Fit> {
    let n = from.len().min(to.len());
    if n < 4 {
        return None;
    }
    let flat = |p: &[Point]| -> Vec<f32> { p[..n].iter().flat_map(|p| [p.x, p.y]).collect() };
    let (src, dst) = (flat(from), flat(to));
    let (src, dst) = (src.as_ptr(), dst.as_ptr());
    let count = n as i32;
    let mut h = [0f64; 9];
    let mut mask = vec![0u8; n];
    let (hp, mp) = (h.as_mut_ptr(), mask.as_mut_ptr());
    // SAFETY: src and dst hold n points of two floats; h holds 9 doubles, mask n bytes.
    let found = unsafe {
        cpp!([src as "const float*", dst as "const float*", count as "int",
              tolerance as "double", hp as "double*", mp as "uint8_t*"] -> bool as "bool" {
            try {
                cv::Mat a(count, 1, CV_32FC2, const_cast<float*>(src));
                cv::Mat b(count, 1, CV_32FC2, const_cast<float*>(dst));
                cv::Mat inl;
                cv::Mat hm = cv::findHomography(a, b, cv::RANSAC, tolerance, inl, 2000, 0.995);
                if (hm.empty()) return false;
                for (int i = 0; i < 9; i++) hp[i] = hm.at<double>(i / 3, i % 3);
                for (int i = 0; i < count; i++) mp[i] = inl.at<uint8_t>(i);
                return true;
            } catch (...) {
                return false;
            }
        })
    };
    found.then(|| Fit {
        h,
        inliers: mask.into_iter().map(|m| m != 0).collect(),
    })
}
