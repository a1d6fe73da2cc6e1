/**
 * The stream parser of conventions whose call is the whole answer as one
 * JSON object (Llama 3.1's `{"name", "parameters"}`, MemGPT's
 * `{"function", "params"}`): an answer that begins like a call is buffered
 * to its end and read as a call; any other is streamed as text.
 */
import type { ToolStreamOutput, ToolStreamParser } from "./types.js";

/** How a whole-answer convention tells a call from text, and reads a call. */
export interface WholeJsonCalls {
  /** Whether the answer's start (leading whitespace removed, not empty) cannot be told apart yet (a marker's prefix): hold it. */
  undecided?(start: string): boolean;
  /** Whether the answer's start (leading whitespace removed) begins a call. */
  isCall(start: string): boolean;
  /** What a whole call answer (the text as received) gives at the end. */
  read(text: string): ToolStreamOutput;
}

/** A fresh stream parser for one answer of a whole-answer convention. */
export function wholeJsonStreamParser(convention: WholeJsonCalls): ToolStreamParser {
  /** `start`: only whitespace (or an undecided prefix) so far; `text`: an ordinary answer; `json`: a call, buffered to the end. */
  let mode: "start" | "text" | "json" = "start";
  let held = "";
  return {
    push(textDelta: string): ToolStreamOutput {
      if (mode === "text") return textDelta ? { content: textDelta } : {};
      held += textDelta;
      if (mode === "json") return {};
      const start = held.trimStart();
      if (start === "" || convention.undecided?.(start)) return {};
      if (convention.isCall(start)) {
        mode = "json";
        return {};
      }
      mode = "text";
      const content = held;
      held = "";
      return { content };
    },
    end(): ToolStreamOutput {
      const text = held;
      const wasJson = mode === "json";
      held = "";
      mode = "start";
      if (!wasJson) return text ? { content: text } : {};
      return convention.read(text);
    },
  };
}
