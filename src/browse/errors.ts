/**
 * The error a {@link BrowseStore} raises for input the caller should not have sent: a malformed
 * cursor, a bad date or limit. The server answers it with 400 `invalid_request_error`.
 */
export class BrowseInputError extends Error {
  override readonly name = "BrowseInputError";
}
