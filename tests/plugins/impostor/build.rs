//! Sets the compile-time variable that selects this variant of the shared source.

fn main() {
    println!("cargo::rustc-env=PS_TEST_EVIL_NAME=analyze");
}
