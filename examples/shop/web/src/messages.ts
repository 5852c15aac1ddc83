// What the page says when a call fails: one function per error union, each an exhaustive
// `switch (e.code)`. A new variant of a Rust error enum (AuthError, ProductError, OrderError)
// reaches the `default` branch, where it is not a framework error, so the call to
// `frameworkMessage` stops compiling until the variant gets its own case.

import type { AccordError, FrameworkErrorData, ProcedureError } from "@accord/client";
import type { Procedures } from "./api/index.js";

export type AuthFailure = ProcedureError<Procedures["auth"]["login"]>;
export type ProductFailure = ProcedureError<Procedures["products"]["get"]>;
export type OrderFailure = ProcedureError<Procedures["orders"]["checkout"]>;

/** "in 3 s" for a `retryAfterMs`, or "shortly" when the server did not say. */
function retryIn(ms: number | undefined): string {
  return ms === undefined ? "shortly" : `in ${Math.max(1, Math.ceil(ms / 1000))} s`;
}

/** The message for a framework error (every procedure can fail with these). */
export function frameworkMessage(e: AccordError<FrameworkErrorData>): string {
  switch (e.code) {
    case "PARSE_ERROR":
    case "INVALID_REQUEST":
    case "METHOD_NOT_FOUND":
      return `This page does not match the server (${e.code}); reload it.`;
    case "INVALID_PARAMS":
      return `The server refused the input${e.data.path ? ` (${e.data.path})` : ""}: ${e.data.reason ?? e.message}.`;
    case "INTERNAL":
      return `Something went wrong on the server${e.requestId ? ` (request ${e.requestId})` : ""}.`;
    case "UNAUTHENTICATED":
      return "Please sign in first.";
    case "FORBIDDEN":
      return "You are not allowed to do that.";
    case "TIMEOUT":
      return "The server took too long to answer; try again.";
    case "CONFLICT":
      return "That conflicts with another change; try again.";
    case "RATE_LIMITED":
      return `Too many requests; try again ${retryIn(e.data.retryAfterMs)}.`;
    case "OVERLOADED":
      return "The shop is busy right now; try again in a moment.";
    case "UNAVAILABLE":
      return "The shop is unavailable right now; try again in a moment.";
    case "REQUEST_TOO_BIG":
    case "BATCH_TOO_BIG":
      return "That request is too big for the server.";
    case "TRANSPORT":
      return "The server cannot be reached; check your connection and try again.";
    case "EVENTS_MISSED":
      // A marker inside a subscription, never a call's failure: the page reloads instead.
      return "Some live updates were missed; reload to be sure.";
    default: {
      const unknown: never = e;
      return String(unknown);
    }
  }
}

/** Signing in (and up, and out). */
export function authMessage(e: AuthFailure): string {
  switch (e.code) {
    case "INVALID_CREDENTIALS":
      return "Wrong email or password.";
    case "EMAIL_TAKEN":
      return `An account with ${e.data.email} exists already.`;
    case "INVALID_PARAMS":
      return "Enter your email address and your password.";
    case "RATE_LIMITED":
      return `Too many sign-in attempts; try again ${retryIn(e.data.retryAfterMs)}.`;
    default:
      return frameworkMessage(e);
  }
}

/** Reading the catalogue. */
export function productMessage(e: ProductFailure): string {
  switch (e.code) {
    case "NOT_FOUND":
      return `Product ${e.data.id} does not exist (any more).`;
    default:
      return frameworkMessage(e);
  }
}

/** Checking out, listing orders and watching them. `nameOf` names products for the message. */
export function orderMessage(e: OrderFailure, nameOf: (productId: number) => string | undefined = () => undefined): string {
  const product = (id: number): string => {
    const name = nameOf(id);
    return name === undefined ? `product ${id}` : `“${name}” (product ${id})`;
  };
  switch (e.code) {
    case "NOT_FOUND":
      return `Order ${e.data.id} does not exist.`;
    case "PRODUCT_NOT_FOUND":
      return `${capitalise(product(e.data.productId))} is no longer sold; remove it from the cart.`;
    case "OUT_OF_STOCK":
      return `Only ${e.data.available} left of ${product(e.data.productId)}, you asked for ${e.data.requested}. Nothing was ordered.`;
    case "CONFLICT":
      return "This checkout was already used for a different cart; check out again.";
    case "UNAUTHENTICATED":
      return "Your session has ended; sign in again to check out.";
    default:
      return frameworkMessage(e);
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
