/**
 * `GET /internal/prompt-formats` over real HTTP: the named formats in the
 * envelope `{success, message, data, metadata, error}`; and the envelope
 * helpers' shape for a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invalidRequest } from "../../src/protocol/errors.js";
import { listPromptFormats } from "../../src/prompt-formats/registry.js";
import { envelope, envelopeError } from "../../src/server/envelope.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

let proxy: TestProxy;
beforeAll(async () => {
  proxy = await startTestProxy();
});
afterAll(async () => {
  await proxy?.close();
});

describe("GET /internal/prompt-formats", () => {
  it("answers 200 with every format in the envelope", async () => {
    const response = await fetch(`${proxy.url}/internal/prompt-formats`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(response.headers.get("x-request-id")).toBeTruthy();
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["data", "error", "message", "metadata", "success"]);
    expect(body).toMatchObject({
      success: true,
      message: "13 prompt formats",
      error: null,
      metadata: { count: 13, default_format: "chatml", special: ["jinja:<file>", "auto"] },
    });
    const data = body.data as {
      name: string;
      stop: string[];
      bos: string | null;
      eos: string | null;
      reference: string;
    }[];
    expect(data).toEqual(JSON.parse(JSON.stringify(listPromptFormats())));
    expect(data.find((format) => format.name === "llama3")).toMatchObject({
      stop: ["<|eot_id|>", "<|end_of_text|>", "<|start_header_id|>"],
      bos: "<|begin_of_text|>",
      eos: "<|eot_id|>",
      reference: "meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json",
    });
  });

  it("an unknown internal path keeps the proxy's 404", async () => {
    const response = await fetch(`${proxy.url}/internal/prompt-format`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unknown_url");
  });
});

describe("the envelope helpers", () => {
  it("envelope() fills success, data and an empty metadata", () => {
    expect(envelope({ data: [1, 2], message: "2 things" })).toEqual({
      success: true,
      message: "2 things",
      data: [1, 2],
      metadata: {},
      error: null,
    });
  });

  it("envelopeError() keeps a RelayError's status, type and code, and makes anything else a 500", () => {
    expect(
      envelopeError(invalidRequest("Unknown prompt format 'x'", "prompt_format", "invalid_value"), { requested: "x" }),
    ).toEqual({
      status: 400,
      body: {
        success: false,
        message: "Unknown prompt format 'x'",
        data: null,
        metadata: { requested: "x" },
        error: {
          type: "invalid_request_error",
          code: "invalid_value",
          message: "Unknown prompt format 'x'",
          details: { param: "prompt_format" },
        },
      },
    });
    const internal = envelopeError(new Error("disk on fire"));
    expect(internal.status).toBe(500);
    expect(internal.body.error).toEqual({
      type: "server_error",
      code: null,
      message: "Internal error: disk on fire",
      details: null,
    });
  });
});
