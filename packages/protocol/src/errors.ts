/**
 * Error bodies (spec §1.5): A1111's own `{error, detail, body, errors}` for deliberate HTTP errors and 500s, and
 * FastAPI's `{detail: [...]}` for request validation (422) and `{detail: "Not Found"}` for unknown routes.
 */
import Type, { type Static } from 'typebox';

export const HTTPErrorBody = Type.Object(
  { error: Type.String(), detail: Type.String(), body: Type.String(), errors: Type.String() },
  { $id: 'HTTPError', title: 'HTTPError' },
);
export type HTTPErrorBody = Static<typeof HTTPErrorBody>;

export const ValidationIssue = Type.Object(
  {
    loc: Type.Array(Type.Union([Type.String(), Type.Integer()])),
    msg: Type.String(),
    type: Type.String(),
    ctx: Type.Optional(Type.Record(Type.String(), Type.Any())),
  },
  { title: 'ValidationError' },
);
export type ValidationIssue = Static<typeof ValidationIssue>;

export const ValidationErrorBody = Type.Object({ detail: Type.Array(ValidationIssue) }, { $id: 'HTTPValidationError', title: 'HTTPValidationError' });
export type ValidationErrorBody = Static<typeof ValidationErrorBody>;

/** 404/405 from the router: `{"detail":"Not Found"}` / `{"detail":"Method Not Allowed"}`. */
export const RouteErrorBody = Type.Object({ detail: Type.String() }, { title: 'RouteError' });
export type RouteErrorBody = Static<typeof RouteErrorBody>;
