/**
 * `previous_response_id` and `GET /v1/responses/{id}` read the record of
 * the caller's own tenant only, on both record stores: SQLite (the
 * logs.db) and PostgreSQL (`database_url`, a throw-away schema on
 * 127.0.0.1:5432). Another tenant's response id is a 404 as an unknown one is.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestSchema, type TestSchema } from "../helpers/pg.js";
import { startTestProxy, type TestProxy } from "../helpers/proxy.js";

for (const store of ["sqlite", "postgres"] as const) {
  describe(`responses of a tenant, ${store} store`, () => {
    let schema: TestSchema | null = null;
    let proxy: TestProxy;
    let acme: OpenAI;
    let other: OpenAI;
    beforeAll(async () => {
      if (store === "postgres") schema = await createTestSchema();
      proxy = await startTestProxy(schema ? { databaseUrl: schema.url } : {});
      const keys = proxy.server.ctx.tenancy.keys;
      const client = async (tenant: string) =>
        new OpenAI({ baseURL: proxy.baseURL, apiKey: (await keys.create({ tenant })).plaintext, maxRetries: 0 });
      acme = await client("acme");
      other = await client("other");
    });
    afterAll(async () => {
      await proxy.close();
      await schema?.drop();
    });

    it("continues and returns the tenant's own response, and 404s another tenant's", async () => {
      const first = await acme.responses.create({ model: "echo", input: "first words" });
      expect(first.output_text).toBe("first words");
      const second = await acme.responses.create({
        model: "echo",
        previous_response_id: first.id,
        input: "second words",
      });
      expect(second.output_text).toBe("second words");
      const retrieved = await acme.responses.retrieve(second.id);
      expect(retrieved.id).toBe(second.id);
      expect(retrieved.previous_response_id).toBe(first.id);
      expect(retrieved.output).toEqual(second.output);

      await expect(other.responses.retrieve(first.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      await expect(
        other.responses.create({ model: "echo", previous_response_id: first.id, input: "steal" }),
      ).rejects.toMatchObject({ status: 404, param: "previous_response_id", code: "not_found" });
    });
  });
}
