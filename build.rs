//! Generates the C header with cbindgen from the C surface: the exports (src/exports) and the
//! vocabulary they use (src/abi), and nothing else of the crate.
//!
//! The header is written next to the build's artefacts (target/<profile>/include/ssl.h), never
//! into the source tree: `make` copies it to include/ssl.h, and `make test` compares the two so
//! a stale committed header fails the tests.

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    // OUT_DIR is target/<profile>/build/<pkg>-<hash>/out.
    let profile_dir = out_dir.ancestors().nth(3).expect("OUT_DIR has the usual depth").to_path_buf();
    let header = profile_dir.join("include").join("ssl.h");

    // The shared library's soname, so that programs linked with -lsesscache need
    // libsesscache.so.0 and an incompatible libsesscache.so.1 can be installed beside it one day.
    // Programs linked against the build tree find it through the libsesscache.so.0 link made here.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsesscache.so.0");
    soname_link(&profile_dir);
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/abi");
    println!("cargo:rerun-if-changed=src/exports");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        .with_src(crate_dir.join("src/abi/mod.rs"))
        .with_src(crate_dir.join("src/exports/mod.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    std::fs::create_dir_all(header.parent().expect("header path has a parent")).expect("create include dir");
    bindings.write_to_file(&header);
}

/// target/<profile>/libsesscache.so.0 -> libsesscache.so: what the soname names, in the build tree
/// (it dangles until the library is linked next to it).
fn soname_link(profile_dir: &std::path::Path) {
    let link = profile_dir.join("libsesscache.so.0");
    if std::fs::read_link(&link).is_ok_and(|target| target == std::path::Path::new("libsesscache.so")) {
        return;
    }
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink("libsesscache.so", &link).expect("create the libsesscache.so.0 link");
}
