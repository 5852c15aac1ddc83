// Helpers shared by the test files.
import assert from "node:assert/strict";

/** Awaits a rejection and returns it, failing when the promise resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail("expected a rejection");
}
