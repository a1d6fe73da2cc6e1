/**
 * A Gemini part's media (`inlineData`, a base64 `Blob`; `fileData`, a file
 * by URI; https://ai.google.dev/api/caching#Part) → the Chat Completions
 * content part that carries it
 * (https://platform.openai.com/docs/api-reference/chat/create#chat-create-messages):
 * images → `image_url` (a `data:` URL, or the file's URL), PDF → `file`
 * (`file_data` as a `data:` URL), WAV and MP3 → `input_audio`, text (`text/*`,
 * JSON) → its text. Other media have no chat part: 400 naming the part.
 */
import { invalidRequest } from "../errors.js";

/** A chat content part as built here. */
export type ChatPart = { type: "text"; text: string } | { type: string; [key: string]: unknown };

/** The `input_audio.format` of the audio media types chat takes. */
const AUDIO_FORMATS: Record<string, string> = {
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "audio/wave": "wav",
  "audio/mp3": "mp3",
  "audio/mpeg": "mp3",
};

/**
 * The chat part of an `inlineData` blob.
 * @param param the part's path, named in the error (`contents[0].parts[1]`)
 * @throws RelayError 400 for a media type chat has no part for
 */
export function inlineDataPart(blob: { mimeType: string; data: string }, param: string): ChatPart {
  const mimeType = blob.mimeType.toLowerCase();
  if (mimeType.startsWith("image/")) return { type: "image_url", image_url: { url: dataUrl(mimeType, blob.data) } };
  if (mimeType === "application/pdf") return { type: "file", file: { file_data: dataUrl(mimeType, blob.data) } };
  const audio = AUDIO_FORMATS[mimeType];
  if (audio) return { type: "input_audio", input_audio: { data: blob.data, format: audio } };
  if (isTextType(mimeType)) return { type: "text", text: Buffer.from(blob.data, "base64").toString("utf8") };
  throw invalidRequest(
    `Invalid value at '${param}.inlineData.mimeType': '${blob.mimeType}' cannot be sent to this model's deployment (a Chat Completions upstream takes images, PDF, WAV/MP3 audio and text).`,
    `${param}.inlineData.mimeType`,
  );
}

/**
 * The chat part of a `fileData` reference: an image at an http(s) URL as `image_url`.
 * @throws RelayError 400 for anything else (Files API uploads and other media stay with Google)
 */
export function fileDataPart(file: { mimeType?: string | undefined; fileUri: string }, param: string): ChatPart {
  const mimeType = (file.mimeType ?? "").toLowerCase();
  if (/^https?:\/\//i.test(file.fileUri) && (mimeType === "" || mimeType.startsWith("image/")))
    return { type: "image_url", image_url: { url: file.fileUri } };
  throw invalidRequest(
    `Invalid value at '${param}.fileData': only images by http(s) URL can be sent to this model's deployment; send other files as inlineData.`,
    `${param}.fileData`,
  );
}

function dataUrl(mimeType: string, base64: string): string {
  return `data:${mimeType};base64,${base64}`;
}

function isTextType(mimeType: string): boolean {
  return mimeType.startsWith("text/") || mimeType === "application/json" || mimeType === "application/xml";
}
