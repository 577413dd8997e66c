/** The answer of GET / (JSON): what this node is and where to go. */

/** Paths on this node. */
export class LandingLinks {
  /**
   * The service desk page (sign in with a token).
   * @example /dashboard
   */
  dashboard: string;

  /**
   * The API documentation (Swagger UI).
   * @example /docs
   */
  docs: string;

  /**
   * The OpenAPI document.
   * @example /docs-json
   */
  openapi: string;

  /**
   * Liveness and readiness (public).
   * @example /health
   */
  health: string;
}

export class LandingView {
  /** @example CareLedger */
  name: string;

  /**
   * The version of CareLedger this node runs.
   * @example 0.1.0
   */
  version: string;

  links: LandingLinks;
}
