/**
 * The request bodies of the Gemini API's `models.generateContent`,
 * `models.streamGenerateContent` (https://ai.google.dev/api/generate-content)
 * and `models.countTokens` (https://ai.google.dev/api/tokens), validated
 * with zod. The model is not in the body: it is the URL's
 * `/v1beta/models/{model}:{method}` (see `method-path.ts`).
 *
 * Every object is loose: fields llm-relay does not read (`safetySettings`,
 * `thoughtSignature`, `videoMetadata`, `labels`, …) are kept as the client
 * sent them, for the record. The fields read are checked by type, so that a
 * 400 names the field the way Google's errors do
 * (`contents[0].parts[1].text`).
 */
import { z } from "zod";
import { invalidRequest, type RelayError } from "../errors.js";
import { parseRequestBody, type ZodIssueReading } from "../zod-issue.js";

/** Raw bytes with their IANA media type; `data` is base64 (https://ai.google.dev/api/caching#Blob). */
const blob = z.looseObject({ mimeType: z.string().min(1), data: z.string() });

/** A file by URI (https://ai.google.dev/api/caching#FileData). */
const fileData = z.looseObject({ mimeType: z.string().optional(), fileUri: z.string().min(1) });

/** A call the model asked for; `args` is a JSON object (https://ai.google.dev/api/caching#FunctionCall). */
const functionCall = z.looseObject({
  id: z.string().optional(),
  name: z.string().min(1),
  args: z.record(z.string(), z.unknown()).nullish(),
});

/** A call's result sent back; `response` is a JSON object (https://ai.google.dev/api/caching#FunctionResponse). */
const functionResponse = z.looseObject({
  id: z.string().optional(),
  name: z.string().min(1),
  response: z.record(z.string(), z.unknown()).nullish(),
});

/**
 * One part of a content (https://ai.google.dev/api/caching#Part): its data is one of `text`, `inlineData`,
 * `fileData`, `functionCall`, `functionResponse` (and parts chat has no place for: `executableCode`,
 * `codeExecutionResult`); `thought: true` marks a text as the model's reasoning.
 */
const part = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
  inlineData: blob.optional(),
  fileData: fileData.optional(),
  functionCall: functionCall.optional(),
  functionResponse: functionResponse.optional(),
});

/**
 * One turn (https://ai.google.dev/api/caching#Content): `role` is `user` or `model` (absent: `user`;
 * `function`, which older clients give the turns holding function responses, is taken as `user`).
 */
const content = z.looseObject({
  role: z.enum(["user", "model", "function"]).optional(),
  /** Google refuses a content without parts (`contents.parts must not be empty`). */
  parts: z.array(part).min(1),
});

/** A function the model may call (https://ai.google.dev/api/caching#FunctionDeclaration). */
const functionDeclaration = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  /** Google's `Schema` (an OpenAPI 3.0 subset, upper-case types). */
  parameters: z.record(z.string(), z.unknown()).nullish(),
  /** A JSON Schema; exclusive with `parameters`. */
  parametersJsonSchema: z.record(z.string(), z.unknown()).nullish(),
});

/** One tool (https://ai.google.dev/api/caching#Tool): function declarations, or one of Google's (`googleSearch`, `codeExecution`, …). */
const tool = z.looseObject({ functionDeclarations: z.array(functionDeclaration).optional() });

/** How the model may call functions (https://ai.google.dev/api/caching#FunctionCallingConfig). */
const toolConfig = z.looseObject({
  functionCallingConfig: z
    .looseObject({
      mode: z.enum(["MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"]).optional(),
      allowedFunctionNames: z.array(z.string().min(1)).optional(),
    })
    .optional(),
});

/** The thinking settings (https://ai.google.dev/api/generate-content#ThinkingConfig). */
const thinkingConfig = z.looseObject({
  includeThoughts: z.boolean().optional(),
  /** Tokens the model may think for; 0 turns thinking off, -1 lets the model decide. */
  thinkingBudget: z.number().int().optional(),
  thinkingLevel: z.string().optional(),
});

/** The sampling and output settings (https://ai.google.dev/api/generate-content#generationconfig). */
const generationConfig = z.looseObject({
  stopSequences: z.array(z.string()).optional(),
  responseMimeType: z.string().optional(),
  responseSchema: z.record(z.string(), z.unknown()).optional(),
  responseJsonSchema: z.unknown().optional(),
  candidateCount: z.number().int().optional(),
  maxOutputTokens: z.number().int().nonnegative().optional(),
  temperature: z.number().optional(),
  topP: z.number().optional(),
  topK: z.number().optional(),
  seed: z.number().int().optional(),
  presencePenalty: z.number().optional(),
  frequencyPenalty: z.number().optional(),
  thinkingConfig: thinkingConfig.optional(),
});

/** The fields of a `GenerateContentRequest` body (also the `generateContentRequest` of `countTokens`). */
const generateContentFields = {
  contents: z.array(content).min(1),
  systemInstruction: content.optional(),
  tools: z.array(tool).optional(),
  toolConfig: toolConfig.optional(),
  generationConfig: generationConfig.optional(),
  cachedContent: z.string().optional(),
};

/** The body of `generateContent` and `streamGenerateContent`. Unknown fields are kept. */
export const generateContentRequestSchema = z.looseObject(generateContentFields);

/** The body of `countTokens`: `contents`, or a whole `generateContentRequest` (https://ai.google.dev/api/tokens). */
export const countTokensRequestSchema = z.looseObject({
  contents: z.array(content).optional(),
  generateContentRequest: z.looseObject(generateContentFields).optional(),
});

/** One validated part. */
export type GeminiPart = z.infer<typeof part>;
/** One validated content (turn). */
export type GeminiContent = z.infer<typeof content>;
/** One validated tool. */
export type GeminiTool = z.infer<typeof tool>;
/** A validated `toolConfig`. */
export type GeminiToolConfig = z.infer<typeof toolConfig>;
/** A validated `generationConfig`. */
export type GenerationConfig = z.infer<typeof generationConfig>;
/** A validated `generateContent` body (unknown fields kept). */
export type GenerateContentRequest = z.infer<typeof generateContentRequestSchema>;
/** A validated `countTokens` body (unknown fields kept). */
export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;

/**
 * Validates a `generateContent` / `streamGenerateContent` body.
 * @throws RelayError 400 naming the first offending field (Google's `INVALID_ARGUMENT`)
 */
export function parseGenerateContentRequest(body: unknown): GenerateContentRequest {
  return validate(generateContentRequestSchema, body, "a GenerateContentRequest with 'contents'");
}

/**
 * Validates a `countTokens` body.
 * @throws RelayError 400 naming the first offending field
 */
export function parseCountTokensRequest(body: unknown): CountTokensRequest {
  return validate(countTokensRequestSchema, body, "a CountTokensRequest");
}

function validate<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  return parseRequestBody(schema, body, `The request body must be a JSON object: ${what}.`, describe);
}

/** A field path as Google's errors write it: `contents[0].parts[1].text`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`)).join("");
}

/** One 400 naming the field of zod's first finding. */
function describe(issue: ZodIssueReading): RelayError {
  const param = fieldPath(issue.path);
  const message = issue.missing ? "required field is missing" : issue.message;
  return invalidRequest(param ? `Invalid value at '${param}': ${message}` : message, param || null);
}
