//! With the `preload` feature (the shared library `make` builds), link with
//! libsctp's symbol versions (VERS_1..3, see build/libsctp.map); without it
//! the C API is not compiled and there is nothing to version.
fn main() {
    let map = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("build/libsctp.map");
    println!("cargo:rerun-if-changed={}", map.display());
    if std::env::var_os("CARGO_FEATURE_PRELOAD").is_some() {
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
            map.display()
        );
    }
}
