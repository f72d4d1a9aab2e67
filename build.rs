// Compiles the few dlib and OpenCV calls the `dlib-face-recognition` crate does not expose (the HOG
// detector's scores and pyramid). dlib's HOG scanner is header-only, so it is compiled here,
// and dlib picks its SIMD code from these flags: x86-64-v2 (SSE4.2, every x86-64 server CPU
// since about 2009) runs it about 1.5x faster than the plain x86-64 default, and the
// building CPU's own instructions (AVX2 or AVX-512 on current servers) about 1.15x faster
// again. So a native build (host = target) is tuned to the CPU that builds it, as
// whisper.cpp's build already is (GGML_NATIVE), and a cross build gets x86-64-v2.
fn main() {
    println!("cargo:rerun-if-changed=src/analysers/face/dlib.rs");
    println!("cargo:rerun-if-changed=src/analysers/logo/cv.rs");
    // The store embeds its migrations.
    println!("cargo:rerun-if-changed=migrations");
    let mut config = cpp_build::Config::new();
    config.flag("-std=c++14").flag("-O3");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64") {
        let native = std::env::var("HOST").ok() == std::env::var("TARGET").ok();
        config.flag(if native {
            "-march=native"
        } else {
            "-march=x86-64-v2"
        });
    }
    // Debian's OpenCV (libopencv-{features2d,calib3d}-dev) ships no pkg-config file
    // for single modules: its headers and libraries are in the standard places.
    config.include("/usr/include/opencv4");
    config.build("src/lib.rs");
    for lib in ["calib3d", "features2d", "imgproc", "core"] {
        println!("cargo:rustc-link-lib=opencv_{lib}");
    }
}
