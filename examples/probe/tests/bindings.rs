//! The probe's TypeScript bindings, which `@accord/client`'s live tests type-check against, are
//! the ones its Rust definition generates. `ACCORD_BLESS=1 cargo test -p accord-probe --test
//! bindings` rewrites them after a change to the probe's API.

use accord::Api;

#[test]
fn the_committed_probe_bindings_are_fresh() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../client-ts/test/probe-api");
    let bindings = accord_bindings::generate(&[accord_probe::ProbeApi::description()]).expect("generate");
    if std::env::var_os("ACCORD_BLESS").is_some() {
        bindings.write(dir).expect("write");
        return;
    }
    let report = bindings.check(dir).expect("check");
    assert!(report.is_clean(), "{report}\nregenerate: ACCORD_BLESS=1 cargo test -p accord-probe --test bindings");
}
