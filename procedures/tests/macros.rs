//! Misuse of the macros is a spanned compile error, never a panic: each file under `ui/` is a
//! mistake a user could make, with the exact message it must produce (`*.stderr`).
//! Regenerate the expected output after an intended change with `TRYBUILD=overwrite`.

#[test]
fn misuse_is_a_clear_compile_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
