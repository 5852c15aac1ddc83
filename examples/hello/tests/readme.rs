//! The README shows this example's files as they are: the smallest program it documents is the
//! one CI builds and runs (`scripts/test-all`).

#[test]
fn the_readme_shows_the_files_verbatim() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    for file in ["src/lib.rs", "src/main.rs", "web/src/main.ts"] {
        let text = std::fs::read_to_string(format!("{root}/examples/hello/{file}")).unwrap();
        // Each file appears in a fenced block, doc comments and all.
        assert!(readme.contains(&text), "README.md does not show examples/hello/{file} as it is:\n{text}");
    }
}
