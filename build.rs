// Compiles the few dlib calls the `dlib-face-recognition` crate does not expose (the HOG
// detector's scores and pyramid).
fn main() {
    println!("cargo:rerun-if-changed=src/analysers/face/dlib.rs");
    // The store embeds its migrations.
    println!("cargo:rerun-if-changed=migrations");
    cpp_build::Config::new()
        .flag("-std=c++14")
        .flag("-O2")
        .build("src/lib.rs");
}
