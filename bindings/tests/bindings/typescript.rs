//! `types.ts`, `procedures.ts` and `index.ts`.

use accord_bindings::HEADER;

use crate::{apis, bindings, file};

#[test]
fn every_file_starts_with_the_header_and_ends_with_one_newline() {
    let bindings = bindings();
    let names: Vec<&str> = bindings.files().keys().map(String::as_str).collect();
    assert_eq!(names, ["index.ts", "openrpc.json", "procedures.ts", "types.ts"]);
    for (name, contents) in bindings.files() {
        if name.ends_with(".ts") {
            assert!(contents.starts_with(&format!("{HEADER}\n")), "{name} lacks the header");
        } else {
            assert!(contents.contains(HEADER.trim_start_matches("// ")), "{name} lacks x-generated");
        }
        assert!(contents.ends_with('\n') && !contents.ends_with("\n\n"), "{name} must end with one newline");
        assert!(contents.lines().all(|line| line == line.trim_end()), "{name} has trailing whitespace");
    }
}

#[test]
fn output_is_deterministic() {
    let first = bindings();
    for _ in 0..3 {
        assert_eq!(bindings(), first);
    }
    // The order of the descriptions does not matter to the TypeScript files.
    let mut reversed = apis();
    reversed.reverse();
    let Ok(other) = accord_bindings::generate(&reversed) else { panic!("generation failed") };
    for name in ["types.ts", "procedures.ts", "index.ts"] {
        assert_eq!(other.get(name), first.get(name), "{name}");
    }
}

#[test]
fn procedures_ts_is_the_sorted_type_map_and_kind_table() {
    let expected = format!(
        r#"{HEADER}
import type {{ Book, BookId, LoanError, NewBook, ShelfError }} from "./types.js";

/** Every procedure of the API: namespace → method → kind, input, output and error types. */
export type Procedures = {{
  loans: {{
    /** Lend a book. */
    lend: {{ kind: "mutation"; input: BookId; output: Book; error: LoanError }};
    /** Books as they come back; resumable after a reconnect. */
    returned: {{ kind: "subscription"; tracked: true; input: void; output: Book; error: LoanError }};
    /** Take a book back; taking it back twice changes nothing. */
    takeBack: {{ kind: "mutation"; idempotent: true; input: BookId; output: Book; error: LoanError }};
  }};
  shelf: {{
    /**
     * Add a book.
     *
     * Titles need not be unique.
     */
    add: {{ kind: "mutation"; input: NewBook; output: Book; error: ShelfError }};
    /** Books as they are added. */
    added: {{ kind: "subscription"; input: void; output: Book; error: ShelfError }};
    allBooks: {{ kind: "query"; input: void; output: Array<Book>; error: ShelfError }};
    /** Fetch one book. */
    get: {{ kind: "query"; input: BookId; output: Book; error: ShelfError }};
  }};
}};

/**
 * The kind of every procedure, for `createClient`: it picks HTTP or WebSocket by kind, and retries
 * queries and `mutation:idempotent`s (mutations declared `#[mutation(idempotent)]`).
 */
export const procedures = {{
  loans: {{ lend: "mutation", returned: "subscription", takeBack: "mutation:idempotent" }},
  shelf: {{ add: "mutation", added: "subscription", allBooks: "query", get: "query" }},
}} as const;
"#
    );
    assert_eq!(file(&bindings(), "procedures.ts"), expected);
}

#[test]
fn types_ts_declares_every_wire_type_sorted_with_docs() {
    let types = file(&bindings(), "types.ts");
    let declared: Vec<&str> = types
        .lines()
        .filter_map(|line| line.strip_prefix("export type "))
        .filter_map(|rest| rest.split([' ', '<']).next())
        .collect();
    assert_eq!(declared, ["Book", "BookId", "LoanError", "NewBook", "ShelfError"]);
    assert!(types.contains("/**\n * A book on the shelf.\n */\nexport type Book = "), "{types}");
    assert!(types.contains("How many pages, when known."), "{types}");
    assert!(types.contains("addedMs: number"), "I53 is a number: {types}");
    assert!(types.contains(r#""code": "NOT_FOUND", id: number"#), "{types}");
    assert!(types.contains(r#""code": "FULL""#), "{types}");
    assert!(!types.contains("bigint") && !types.contains(accord::TS_LARGE_INT_SENTINEL));
}

#[test]
fn index_ts_reexports_both_modules() {
    let expected = format!("{HEADER}\nexport * from \"./types.js\";\nexport * from \"./procedures.js\";\n");
    assert_eq!(file(&bindings(), "index.ts"), expected);
}
