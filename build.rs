//! Link settings for the `kfpl` binary (the library and the tests are built
//! as Cargo would anyway).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    link_without_pie();
    place_startup_code_together();
}

/// Links the binary at a fixed address (not position-independent) on Linux.
///
/// A position-independent executable is relocated by the dynamic loader at
/// every start: 11,400 pointers in the binary's constant tables (vtables,
/// tables of strings and descriptions) are rewritten, ~0.15 M instructions,
/// and the 39 pages that hold them are copied on first write.
/// `kfpl compile` on the tutorial's pipeline is ~1.9 M instructions in all,
/// so that was 8% of it, and 44 of its ~355 page faults. At a fixed address
/// the linker writes those pointers once, into the file.
///
/// The cost: the binary's own code and data no longer move from run to run
/// (address-space layout randomisation still moves the stack, the heap and
/// the shared libraries). The code is still compiled position-independent;
/// only the link differs, so this touches the `kfpl` binary alone, and no
/// dependency is rebuilt.
fn link_without_pie() {
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if linux {
        // After rustc's own `-pie`; the C compiler driver keeps the last one.
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

/// Places the functions a small compile runs side by side in the binary.
///
/// The binary has 8 MB of code; a `kfpl compile` of the tutorial's pipeline
/// runs ~1,000 functions of it, scattered: 77 page faults (each loading
/// 64 KiB around it) just to read them. Listed in order for the linker
/// (`benches/startup.order`, written by `benches/startup-order.sh` from
/// callgrind's list), they fill ~1 MB and take 21 faults.
///
/// Only rust-lld, Rust's own linker on x86-64 Linux since 1.90, reads the
/// list; a build given another linker (`-C linker=…` in `RUSTFLAGS`) links as
/// before. Names the list gives that the binary lacks are skipped without a
/// word (`--no-warn-symbol-ordering`): after a toolchain or dependency bump
/// the list only helps less until it is written again.
fn place_startup_code_together() {
    const ORDER: &str = "benches/startup.order";
    println!("cargo:rerun-if-changed={ORDER}");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let rust_lld = std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu")
        && !std::env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|flags| flags.contains("linker"));
    let Ok(dir) = std::env::var("CARGO_MANIFEST_DIR") else {
        return;
    };
    let order = std::path::Path::new(&dir).join(ORDER);
    if rust_lld && order.is_file() {
        // `-Xlinker`, not `-Wl,`: a comma in the path would split it.
        println!("cargo:rustc-link-arg-bins=-Xlinker");
        println!(
            "cargo:rustc-link-arg-bins=--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}
