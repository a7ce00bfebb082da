// Every request is one of the clients/web-opac operations, sent by its trusted-document id
// (docs/frontend.md); the session is the HttpOnly cookie, the header is the CSRF guard.

let operations = null;
const listeners = new Set();

/** A top-level error (the operation could not run); `code` is the API's error code. */
export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** Payload errors (business refusals) as one thrown error, the first code kept. */
export class Refusal extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join(" / "));
    this.code = errors[0]?.code;
    this.errors = errors;
  }
}

/** Called with the code when the server says the session is gone. */
export function onSessionLost(listener) {
  listeners.add(listener);
}

export async function call(name, variables = {}) {
  operations ??= await (await fetch("/opac/operations.json")).json();
  const response = await fetch("/graphql", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Hondana-Client": "web-opac" },
    body: JSON.stringify({ documentId: operations[name], variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError("ただいまサービスを利用できません。しばらくしてからお試しください。", "UNAVAILABLE");
  }
  if (body.errors?.length) {
    const error = body.errors[0];
    const code = error.extensions?.code;
    if (["UNAUTHENTICATED", "SESSION_EXPIRED"].includes(code)) for (const l of listeners) l(code);
    throw new ApiError(error.message, code);
  }
  return body.data;
}

/** Throw the payload's errors, if any. */
export function check(errors) {
  if (errors?.length) throw new Refusal(errors);
}
