//! Link settings for the `kfpl` binary (the library and the tests are built
//! as Cargo would anyway).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    link_without_pie();
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
